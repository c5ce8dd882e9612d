import { COMMANDS, COMMAND_CATEGORY } from '../src/extension/commandIds';
import { SETTING_SECTIONS, type SettingSection } from '../src/extension/settings';

/** The contributes.commands / contributes.configuration package.json should carry. */
export function manifestContributions(): { commands: unknown[]; configuration: unknown[] } {
  const commands = COMMANDS.map((c) => ({ command: c.id, title: c.title, category: COMMAND_CATEGORY }));
  const configuration = (Object.values(SETTING_SECTIONS) as SettingSection[]).map((section) => ({
    title: `Subword: ${section.title}`,
    properties: Object.fromEntries(
      Object.entries(section.settings).map(([id, spec]) => {
        const prop: Record<string, unknown> = { type: spec.type, default: spec.default, description: spec.description };
        if (spec.enum) prop.enum = spec.enum;
        if (spec.enumDescriptions) prop.enumDescriptions = spec.enumDescriptions;
        if (spec.minimum !== undefined) prop.minimum = spec.minimum;
        if (spec.maximum !== undefined) prop.maximum = spec.maximum;
        if (spec.type === 'array') prop.items = { type: 'string' };
        if (spec.type === 'object') prop.additionalProperties = { type: 'boolean' };
        if (spec.scope) prop.scope = spec.scope;
        return [id, prop];
      }),
    ),
  }));
  return { commands, configuration };
}
