/** The subword-tiny model for a test file: loaded before its tests, disposed after. */
import { join } from 'node:path';
import { after, before } from 'node:test';
import { silentLogger } from '../../../src/engine/log';
import { loadModel, type LoadedModel } from '../../../src/engine/model/load';

export function useTinyModel(): () => LoadedModel {
  let tiny: LoadedModel | undefined;
  before(async () => {
    tiny = await loadModel(join(__dirname, '..', '..', '..', 'models', 'subword-tiny'), { logger: silentLogger, skipChecksums: true });
  });
  after(async () => {
    await tiny?.model.dispose();
  });
  return () => {
    if (!tiny) throw new Error('the tiny model loads before the tests');
    return tiny;
  };
}
