/**
 * nginx config text to a tree of directives, each with its file and line. Follows
 * nginx's own tokenizer (ngx_conf_file.c): words split on whitespace, `;` ends a
 * directive, `{`/`}` open and close a block, `#` starts a comment outside quotes,
 * single and double quotes group a word and honour backslash escapes.
 */
export interface Directive {
  name: string;
  args: string[];
  file: string;
  line: number;
  block?: Directive[];
}

export class ConfigSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      tokens.push({ text: c, line, quoted: false });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          // nginx keeps the backslash except before the quote itself and a few escapes.
          value += next === c || next === '\\' ? next : next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : `\\${next}`;
          i += 2;
          continue;
        }
        if (text[i] === '\n') line++;
        value += text[i];
        i++;
      }
      if (i >= text.length) throw new ConfigSyntaxError(file, start, `unterminated ${c === '"' ? 'double' : 'single'} quote; expected a closing ${c}`);
      i++;
      tokens.push({ text: value, line: start, quoted: true });
    } else {
      let value = '';
      while (i < text.length) {
        const d = text[i]!;
        if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';' || d === '{' || d === '}') {
          // `${var}` braces belong to the word.
          if (d === '{' && value.endsWith('$')) {
            const close = text.indexOf('}', i);
            if (close === -1) throw new ConfigSyntaxError(file, line, 'unterminated ${ in a variable');
            value += text.slice(i, close + 1);
            i = close + 1;
            continue;
          }
          break;
        }
        if (d === '\\' && i + 1 < text.length) {
          value += text.slice(i, i + 2);
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      tokens.push({ text: value, line, quoted: false });
    }
  }
  return tokens;
}

/** Parses one file's text. `*_by_lua_block { … }` bodies are skipped unparsed. */
export function parseConfig(text: string, file: string): Directive[] {
  const tokens = tokenize(text, file);
  let pos = 0;
  const parseBlock = (depth: number, openLine: number): Directive[] => {
    const out: Directive[] = [];
    while (pos < tokens.length) {
      const first = tokens[pos]!;
      if (!first.quoted && first.text === '}') {
        if (depth === 0) throw new ConfigSyntaxError(file, first.line, 'unexpected "}"; no block is open');
        pos++;
        return out;
      }
      if (!first.quoted && (first.text === ';' || first.text === '{')) {
        throw new ConfigSyntaxError(file, first.line, `unexpected "${first.text}"; expected a directive name`);
      }
      pos++;
      const args: string[] = [];
      for (;;) {
        const t = tokens[pos];
        if (!t) throw new ConfigSyntaxError(file, first.line, `directive "${first.text}" has no ending ";" or "{"`);
        pos++;
        if (!t.quoted && t.text === ';') {
          out.push({ name: first.text, args, file, line: first.line });
          break;
        }
        if (!t.quoted && t.text === '{') {
          if (first.text.endsWith('_by_lua_block')) {
            skipBalanced(t.line);
            out.push({ name: first.text, args, file, line: first.line, block: [] });
          } else {
            out.push({ name: first.text, args, file, line: first.line, block: parseBlock(depth + 1, t.line) });
          }
          break;
        }
        if (!t.quoted && t.text === '}') throw new ConfigSyntaxError(file, t.line, `unexpected "}" in directive "${first.text}"; expected ";"`);
        args.push(t.text);
      }
    }
    if (depth > 0) throw new ConfigSyntaxError(file, openLine, 'block opened here is never closed; expected "}"');
    return out;
  };
  const skipBalanced = (line: number) => {
    let level = 1;
    while (pos < tokens.length && level > 0) {
      const t = tokens[pos++]!;
      if (!t.quoted && t.text === '{') level++;
      if (!t.quoted && t.text === '}') level--;
    }
    if (level > 0) throw new ConfigSyntaxError(file, line, 'lua block is never closed; expected "}"');
  };
  return parseBlock(0, 1);
}
