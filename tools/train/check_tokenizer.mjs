// Differential check: ids from the Python encoder (golden json) vs @huggingface/tokenizers.
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
const [tokPath, goldenPath] = process.argv.slice(2);
const tj = JSON.parse(readFileSync(tokPath, "utf8"));
const tok = new Tokenizer(tj, {});
const golden = JSON.parse(readFileSync(goldenPath, "utf8"));
let bad = 0;
for (const c of golden.cases) {
  const ids = tok.encode(c.text, { add_special_tokens: false }).ids;
  const same = ids.length === c.ids.length && ids.every((v, i) => v === c.ids[i]);
  if (!same) {
    bad++;
    let i = 0; while (i < ids.length && ids[i] === c.ids[i]) i++;
    console.log("MISMATCH", c.name, "at", i, "js", ids.slice(i, i + 5), "py", c.ids.slice(i, i + 5));
  }
}
console.log(`${golden.cases.length - bad}/${golden.cases.length} cases identical`);
process.exit(bad ? 1 : 0);
