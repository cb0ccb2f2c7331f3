// Parse an AsyncAPI document with the official parser (@asyncapi/parser) and print what it found, as JSON:
//   node asyncapi_parse.mjs <folder where the parser is installed> <document>
// Output: {"parser": version, "diagnostics": [{code, severity, message, path}], "channels": {address: {"id",
// "actions": [operation actions], "messages": {id: {"headers": [names], "required": [names]}}}}}; "channels" is
// null when the parser produced no document. Severity is the parser's: 0 error, 1 warning, 2 information, 3 hint.
// Called by tests/e2e/test_asyncapi_parser.py.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [folder, documentPath] = process.argv.slice(2);
if (!folder || !documentPath) {
  console.error('usage: node asyncapi_parse.mjs <parser folder> <document>');
  process.exit(2);
}
const require = createRequire(join(resolve(folder), 'package.json'));
const { Parser } = require('@asyncapi/parser');
const version = require('@asyncapi/parser/package.json').version;

const source = resolve(documentPath);
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(source, 'utf8'), {
  source: pathToFileURL(source).href,
});

let channels = null;
if (document) {
  channels = {};
  for (const channel of document.channels()) {
    const messages = {};
    for (const message of channel.messages()) {
      const headers = message.hasHeaders() ? message.headers() : null;
      messages[message.id()] = {
        headers: headers ? Object.keys(headers.properties() ?? {}) : [],
        required: headers ? (headers.required() ?? []) : [],
      };
    }
    const actions = channel.operations().all().map((operation) => operation.action());
    channels[channel.address()] = { id: channel.id(), actions, messages };
  }
}
process.stdout.write(
  JSON.stringify({
    parser: version,
    diagnostics: diagnostics.map((d) => ({ code: d.code, severity: d.severity, message: d.message, path: d.path })),
    channels,
  }) + '\n',
);
