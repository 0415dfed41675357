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
  /** Set on the `{` of a `*_by_lua_block`: its Lua body was consumed with it, up to the closing `}`. */
  luaBody?: true;
}

/**
 * nginx's tokenizer (ngx_conf_read_token): a word ends at whitespace, `;` or `{`
 * (but `{` right after `$` is `${var}`); a `}` inside a word is part of it
 * (`return 200 a}b;` is valid). `#` and quotes are special only where a word starts.
 * `\r` is whitespace, so a CRLF dump counts lines like an LF one. Tokens are made
 * as the parser pulls them: holding all of a 4 MB dump's tokens at once made
 * garbage collection most of the cost.
 */
function tokenize(text: string, file: string): () => Token | undefined {
  let line = 1;
  let i = 0;
  // The first word of the statement being read: nginx-lua hands the body of a
  // `*_by_lua_block` to its own Lua-aware reader (ngx_http_lua_conf_read_lua_token).
  let statementName: string | undefined;
  return () => {
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
        if (c === '{' && statementName?.endsWith('_by_lua_block')) {
          const open = line;
          const end = skipLua(text, i + 1, line);
          if (!end) throw new ConfigSyntaxError(file, open, `${statementName} is never closed; expected "}" after its Lua code`);
          ({ index: i, line } = end);
          statementName = undefined;
          return { text: c, line: open, quoted: false, luaBody: true };
        } else {
          i++;
          statementName = undefined;
          return { text: c, line, quoted: false };
        }
      } else if (c === '"' || c === "'") {
        const start = line;
        let value = '';
        i++;
        while (i < text.length && text[i] !== c) {
          if (text[i] === '\\' && i + 1 < text.length) {
            const next = text[i + 1]!;
            // nginx keeps the backslash except before the quote itself and a few escapes.
            value += next === c || next === '\\' ? next : next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : `\\${next}`;
            if (next === '\n') line++;
            i += 2;
            continue;
          }
          if (text[i] === '\n') line++;
          value += text[i];
          i++;
        }
        if (i >= text.length) throw new ConfigSyntaxError(file, start, `unterminated ${c === '"' ? 'double' : 'single'} quote; expected a closing ${c}`);
        i++;
        statementName ??= value;
        return { text: value, line: start, quoted: true };
      } else {
        // Scan to the end of the word and slice once: concatenating char by char made a
        // 4 MB dump take seconds.
        const start = i;
        const startLine = line;
        while (i < text.length) {
          const d = text.charCodeAt(i);
          if (d === 0x7b /* { */ && i > start && text.charCodeAt(i - 1) === 0x24 /* $ */) {
            i++;
            continue;
          }
          if (d === 0x20 || d === 0x09 || d === 0x0d || d === 0x0a || d === 0x3b /* ; */ || d === 0x7b) break;
          if (d === 0x5c /* \ */ && i + 1 < text.length) {
            if (text.charCodeAt(i + 1) === 0x0a) line++;
            i += 2;
            continue;
          }
          i++;
        }
        const value = text.slice(start, i);
        statementName ??= value;
        return { text: value, line: startLine, quoted: false };
      }
    }
    return undefined;
  };
}

/**
 * Skips a Lua body from just after its `{` to just after the matching `}`:
 * braces inside strings, `--` comments and long brackets (`[[…]]`, `[=[…]=]`,
 * `--[[…]]`) do not count (Lua 5.1 reference manual, 2.1 Lexical Conventions).
 * Undefined when the body never closes.
 */
function skipLua(text: string, from: number, line: number): { index: number; line: number } | undefined {
  let i = from;
  let level = 1;
  const longBracket = (at: number): number | undefined => {
    const m = /^\[(=*)\[/.exec(text.slice(at, at + 64));
    return m ? m[1]!.length : undefined;
  };
  const skipTo = (end: number) => {
    for (let k = i; k < end; k++) if (text[k] === '\n') line++;
    i = end;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '-' && text[i + 1] === '-') {
      const equals = longBracket(i + 2);
      if (equals !== undefined) {
        const close = text.indexOf(`]${'='.repeat(equals)}]`, i + 4 + equals);
        if (close === -1) return undefined;
        skipTo(close + 2 + equals);
      } else {
        const eol = text.indexOf('\n', i);
        skipTo(eol === -1 ? text.length : eol);
      }
    } else if (c === '[' && longBracket(i) !== undefined) {
      const equals = longBracket(i)!;
      const close = text.indexOf(`]${'='.repeat(equals)}]`, i + 2 + equals);
      if (close === -1) return undefined;
      skipTo(close + 2 + equals);
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < text.length && text[k] !== c) k += text[k] === '\\' ? 2 : 1;
      if (k >= text.length) return undefined;
      skipTo(k + 1);
    } else {
      if (c === '\n') line++;
      if (c === '{') level++;
      if (c === '}' && --level === 0) return { index: i + 1, line };
      i++;
    }
  }
  return undefined;
}

/** Parses one file's text. `*_by_lua_block { … }` bodies are skipped unparsed. */
export function parseConfig(text: string, file: string): Directive[] {
  const nextToken = tokenize(text, file);
  let lookahead = nextToken();
  const parseBlock = (depth: number, openLine: number): Directive[] => {
    const out: Directive[] = [];
    while (lookahead) {
      const first = lookahead;
      if (!first.quoted && first.text === '}') {
        if (depth === 0) throw new ConfigSyntaxError(file, first.line, 'unexpected "}"; no block is open');
        lookahead = nextToken();
        return out;
      }
      if (!first.quoted && (first.text === ';' || first.text === '{')) {
        throw new ConfigSyntaxError(file, first.line, `unexpected "${first.text}"; expected a directive name`);
      }
      const args: string[] = [];
      for (;;) {
        const t = nextToken();
        if (!t) throw new ConfigSyntaxError(file, first.line, `directive "${first.text}" has no ending ";" or "{"`);
        if (!t.quoted && t.text === ';') {
          out.push({ name: first.text, args, file, line: first.line });
          lookahead = nextToken();
          break;
        }
        if (!t.quoted && t.text === '{') {
          lookahead = nextToken();
          // parseBlock consumes the closing "}" and reads the token after it.
          out.push({ name: first.text, args, file, line: first.line, block: t.luaBody ? [] : parseBlock(depth + 1, t.line) });
          break;
        }
        if (!t.quoted && t.text === '}') throw new ConfigSyntaxError(file, t.line, `unexpected "}" in directive "${first.text}"; expected ";"`);
        args.push(t.text);
      }
    }
    if (depth > 0) throw new ConfigSyntaxError(file, openLine, 'block opened here is never closed; expected "}"');
    return out;
  };
  return parseBlock(0, 1);
}
