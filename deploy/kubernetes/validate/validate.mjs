// Validates Kubernetes manifests against the API schemas of the kubernetes-models package (generated from the
// Kubernetes OpenAPI definitions): types, required fields, enumerations and formats of every document.
//
//   npm ci --prefix deploy/kubernetes/validate && node deploy/kubernetes/validate/validate.mjs [FILE.yaml ...]
//
// Without files it checks every deploy/kubernetes/*.yaml. Prints one line per document; exit code 0 when all are
// valid, 1 when one is not, 2 when a file cannot be read or names a kind the schemas do not know.
import * as yaml from 'js-yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(join(here, '..')).filter(f => f.endsWith('.yaml')).sort().map(f => join(here, '..', f));

let status = 0;
for (const file of files) {
  let docs;
  try {
    docs = yaml.loadAll(readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`${file}: cannot read: ${e.message.split('\n')[0]}`);
    status = 2;
    continue;
  }
  for (const [i, doc] of docs.entries()) {
    if (doc === null || doc === undefined) continue;
    const where = `${file}: document ${i + 1}`;
    const { apiVersion, kind } = doc;
    let model;
    try {
      model = (await import(`kubernetes-models/${apiVersion}`))[kind];
    } catch {
      model = undefined;
    }
    if (typeof model !== 'function') {
      console.log(`${where}: no schema for apiVersion ${apiVersion} kind ${kind}`);
      status = 2;
      continue;
    }
    try {
      new model(doc).validate();
      console.log(`${where}: ${apiVersion} ${kind} ${doc.metadata?.name}: valid`);
    } catch (e) {
      console.log(`${where}: ${apiVersion} ${kind} ${doc.metadata?.name}: INVALID: ${e.message}`);
      status = Math.max(status, 1);
    }
  }
}
process.exit(status);
