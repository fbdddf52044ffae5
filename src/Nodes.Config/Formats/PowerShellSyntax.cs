using System.Text;
using Nodes.Topology;

namespace Nodes.Config.Formats;

internal enum PsTokenKind
{
    Word,
    String,
    ExpandableString,
    Variable,
    Parameter,
    ArrayOpen,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Pipe,
    Semicolon,
    Assign,
    NewLine,
}

/// <summary>One PowerShell token; <see cref="Text"/> is the string's content for strings, the name for variables and parameters.</summary>
internal sealed record PsToken(PsTokenKind Kind, string Text, SourceLocation At)
{
    /// <summary>For a parameter written -Name:value, the value part.</summary>
    public string? Inline { get; init; }
}

/// <summary>
/// Splits PowerShell text into tokens: enough of the language for configuration scripts (named parameters,
/// quoted strings, @(...) arrays, comma lists, variables, backtick line continuations, comments). A newline ends a
/// statement except inside parentheses or after a backtick, a comma or a pipe.
/// </summary>
internal static class PowerShellLexer
{
    public static List<PsToken> Tokenize(string text, string file, List<ConfigNote> problems)
    {
        var tokens = new List<PsToken>();
        int i = 0, line = 1, lineStart = 0, depth = 0;
        SourceLocation Here(int at) => new(file, line, at - lineStart + 1);
        void Add(PsTokenKind kind, string t, int at) => tokens.Add(new PsToken(kind, t, Here(at)));
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                var last = tokens.Count > 0 ? tokens[^1].Kind : PsTokenKind.NewLine;
                if (depth == 0 && last is not (PsTokenKind.Comma or PsTokenKind.Pipe or PsTokenKind.NewLine or PsTokenKind.Assign)) Add(PsTokenKind.NewLine, "", i);
                i++;
                line++;
                lineStart = i;
                continue;
            }
            if (c is ' ' or '\t' or '\r' or '\uFEFF') { i++; continue; }
            if (c == '`' && i + 1 < text.Length && (text[i + 1] == '\n' || (text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n')))
            {
                i += text[i + 1] == '\r' ? 3 : 2;
                line++;
                lineStart = i;
                continue;
            }
            if (c == '<' && i + 1 < text.Length && text[i + 1] == '#')
            {
                var end = text.IndexOf("#>", i + 2, StringComparison.Ordinal);
                var stop = end < 0 ? text.Length : end + 2;
                for (var k = i; k < stop; k++)
                    if (text[k] == '\n') { line++; lineStart = k + 1; }
                i = stop;
                continue;
            }
            if (c == '#')
            {
                while (i < text.Length && text[i] != '\n') i++;
                continue;
            }
            var start = i;
            switch (c)
            {
                case '"' or '\'':
                {
                    var sb = new StringBuilder();
                    i++;
                    var closed = false;
                    while (i < text.Length)
                    {
                        var ch = text[i];
                        if (ch == c)
                        {
                            if (i + 1 < text.Length && text[i + 1] == c) { sb.Append(c); i += 2; continue; }
                            i++;
                            closed = true;
                            break;
                        }
                        if (c == '"' && ch == '`' && i + 1 < text.Length) { sb.Append(text[i + 1] switch { 'n' => '\n', 't' => '\t', var o => o }); i += 2; continue; }
                        if (ch == '\n') { line++; lineStart = i + 1; }
                        sb.Append(ch);
                        i++;
                    }
                    if (!closed) problems.Add(new ConfigNote(Here(start), "an unterminated string", $"the string opened with {c} is never closed"));
                    Add(c == '"' ? PsTokenKind.ExpandableString : PsTokenKind.String, sb.ToString(), start);
                    continue;
                }
                case '@' when i + 1 < text.Length && text[i + 1] is '(' or '{':
                    depth++;
                    Add(PsTokenKind.ArrayOpen, "@(", start);
                    i += 2;
                    continue;
                case '(':
                    depth++;
                    Add(PsTokenKind.LParen, "(", start);
                    i++;
                    continue;
                case ')':
                    depth = Math.Max(0, depth - 1);
                    Add(PsTokenKind.RParen, ")", start);
                    i++;
                    continue;
                case '{': Add(PsTokenKind.LBrace, "{", start); i++; continue;
                case '}':
                    if (depth > 0) { depth = Math.Max(0, depth - 1); Add(PsTokenKind.RParen, ")", start); }
                    else Add(PsTokenKind.RBrace, "}", start);
                    i++;
                    continue;
                case ',': Add(PsTokenKind.Comma, ",", start); i++; continue;
                case '|': Add(PsTokenKind.Pipe, "|", start); i++; continue;
                case ';': Add(PsTokenKind.Semicolon, ";", start); i++; continue;
                case '=' when i + 1 >= text.Length || text[i + 1] != '=':
                    Add(PsTokenKind.Assign, "=", start);
                    i++;
                    continue;
            }
            // A bare word, a variable or a parameter: up to whitespace or a separator.
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or '{' or '}' or ',' or '|' or ';' or '"' or '\'') &&
                   !(text[i] == '=' && i > start && text[start] == '$'))
                i++;
            var word = text[start..i];
            if (word.Length > 1 && word[0] == '$' && IsName(word.AsSpan(1)))
                Add(PsTokenKind.Variable, word[1..].TrimStart('{').TrimEnd('}'), start);
            else if (word.Length > 1 && word[0] == '-' && char.IsLetter(word[1]))
            {
                var colon = word.IndexOf(':');
                tokens.Add(new PsToken(PsTokenKind.Parameter, colon < 0 ? word[1..] : word[1..colon], Here(start)) { Inline = colon < 0 ? null : word[(colon + 1)..] });
            }
            else Add(PsTokenKind.Word, word, start);
        }
        if (tokens.Count > 0 && tokens[^1].Kind != PsTokenKind.NewLine) tokens.Add(new PsToken(PsTokenKind.NewLine, "", Here(i)));
        return tokens;
    }

    private static bool IsName(ReadOnlySpan<char> s)
    {
        if (s.Length > 1 && s[0] == '{' && s[^1] == '}') return true;
        foreach (var ch in s)
            if (!char.IsLetterOrDigit(ch) && ch is not ('_' or ':')) return false;
        return true;
    }
}

/// <summary>A value in a PowerShell statement, as far as the reader evaluates it.</summary>
internal abstract record PsValue(SourceLocation At);

/// <summary>Text (a string, a bare word, a number, $true/$false as True/False).</summary>
internal sealed record PsScalar(string Text, SourceLocation At) : PsValue(At);

/// <summary>An array: @(...) or a comma list.</summary>
internal sealed record PsList(List<PsValue> Items, SourceLocation At) : PsValue(At);

/// <summary>The result of a cmdlet assigned to a variable ($policy = New-AzIpsecPolicy ...).</summary>
internal sealed record PsObject(PsCommand Command, SourceLocation At) : PsValue(At);

/// <summary>Something the reader does not evaluate: a subexpression, an unset variable.</summary>
internal sealed record PsUnknown(string Text, SourceLocation At) : PsValue(At);

/// <summary>A named argument: -Name value, or a switch (value True).</summary>
internal sealed record PsArgument(string Name, PsValue Value, SourceLocation At);

/// <summary>One cmdlet call with its arguments.</summary>
internal sealed record PsCommand(string Name, List<PsArgument> Arguments, List<PsValue> Positional, SourceLocation At)
{
    public PsArgument? Find(string name) => Arguments.LastOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Reads statements from tokens and evaluates the little a configuration script needs: variable assignments
/// (strings, arrays, cmdlet results) and cmdlet calls. Control flow is not evaluated: the commands inside if
/// blocks are read as if they ran, and function bodies are skipped, each with a note.
/// </summary>
internal sealed class PowerShellInterpreter(List<PsToken> tokens, ImportedConfig config)
{
    private readonly Dictionary<string, PsValue> variables = new(StringComparer.OrdinalIgnoreCase);
    private int pos;

    public IEnumerable<PsCommand> Commands()
    {
        while (pos < tokens.Count)
        {
            var t = tokens[pos];
            switch (t.Kind)
            {
                case PsTokenKind.NewLine or PsTokenKind.Semicolon or PsTokenKind.LBrace or PsTokenKind.RBrace:
                    pos++;
                    continue;
                case PsTokenKind.Word when t.Text.Equals("function", StringComparison.OrdinalIgnoreCase) || t.Text.Equals("filter", StringComparison.OrdinalIgnoreCase):
                    SkipFunction(t);
                    continue;
                case PsTokenKind.Word when IsKeyword(t.Text, out var withCondition):
                    pos++;
                    if (withCondition && pos < tokens.Count && tokens[pos].Kind == PsTokenKind.LParen)
                    {
                        var cond = SkipGroup();
                        config.Note(t.At, $"'{t.Text} {cond}'", "conditions are not evaluated; the commands in the block are read as if they ran");
                    }
                    continue;
                case PsTokenKind.Variable when pos + 1 < tokens.Count && tokens[pos + 1].Kind == PsTokenKind.Assign:
                {
                    pos += 2;
                    if (pos < tokens.Count && tokens[pos].Kind == PsTokenKind.Word && LooksLikeCmdlet(tokens[pos].Text))
                    {
                        var cmd = ReadCommand();
                        variables[t.Text] = new PsObject(cmd, cmd.At);
                        yield return cmd;
                    }
                    else
                    {
                        variables[t.Text] = ReadValue() ?? new PsUnknown("", t.At);
                        SkipToEnd(t, "the rest of the assignment");
                    }
                    continue;
                }
                case PsTokenKind.Word:
                    yield return ReadCommand();
                    continue;
                default:
                    SkipToEnd(t, $"a statement starting with '{t.Text}'");
                    continue;
            }
        }
    }

    private static bool LooksLikeCmdlet(string word) => word.Contains('-') && char.IsLetter(word[0]);

    private static bool IsKeyword(string word, out bool withCondition)
    {
        withCondition = word.ToLowerInvariant() is "if" or "elseif" or "while" or "foreach" or "for" or "switch" or "catch";
        return withCondition || word.ToLowerInvariant() is "else" or "try" or "finally" or "do" or "trap";
    }

    private void SkipFunction(PsToken at)
    {
        pos++;
        var name = pos < tokens.Count ? tokens[pos].Text : "";
        while (pos < tokens.Count && tokens[pos].Kind != PsTokenKind.LBrace) pos++;
        var depth = 0;
        var end = at.At;
        while (pos < tokens.Count)
        {
            var k = tokens[pos++];
            if (k.Kind == PsTokenKind.LBrace) depth++;
            else if (k.Kind == PsTokenKind.RBrace && --depth == 0) { end = k.At; break; }
        }
        config.Note(at.At, $"function {name} (to line {end.Line})", "function definitions are not run; calls to the function are noted where they are");
    }

    private string SkipGroup()
    {
        var sb = new StringBuilder();
        var depth = 0;
        while (pos < tokens.Count)
        {
            var k = tokens[pos++];
            if (k.Kind is PsTokenKind.LParen or PsTokenKind.ArrayOpen) depth++;
            else if (k.Kind == PsTokenKind.RParen) depth--;
            sb.Append(k.Kind switch { PsTokenKind.Variable => "$" + k.Text, PsTokenKind.Parameter => "-" + k.Text, PsTokenKind.ExpandableString => $"\"{k.Text}\"", PsTokenKind.String => $"'{k.Text}'", _ => k.Text });
            sb.Append(' ');
            if (depth == 0) break;
        }
        return sb.ToString().Trim();
    }

    private void SkipToEnd(PsToken at, string what)
    {
        var skipped = false;
        while (pos < tokens.Count && tokens[pos].Kind is not (PsTokenKind.NewLine or PsTokenKind.Semicolon or PsTokenKind.LBrace or PsTokenKind.RBrace))
        {
            pos++;
            skipped = true;
        }
        if (skipped) config.Note(at.At, what, "not a cmdlet call or an assignment the import understands");
    }

    private bool AtEnd => pos >= tokens.Count || tokens[pos].Kind is PsTokenKind.NewLine or PsTokenKind.Semicolon or PsTokenKind.LBrace or PsTokenKind.RBrace or PsTokenKind.Pipe;

    private PsCommand ReadCommand()
    {
        var head = tokens[pos++];
        var args = new List<PsArgument>();
        var positional = new List<PsValue>();
        while (!AtEnd)
        {
            var t = tokens[pos];
            if (t.Kind == PsTokenKind.Parameter)
            {
                pos++;
                if (t.Inline is { } inline)
                {
                    args.Add(new PsArgument(t.Text, Scalar(inline, t.At), t.At));
                    continue;
                }
                if (AtEnd || tokens[pos].Kind == PsTokenKind.Parameter)
                {
                    args.Add(new PsArgument(t.Text, new PsScalar("True", t.At), t.At));
                    continue;
                }
                args.Add(new PsArgument(t.Text, ReadValue() ?? new PsUnknown("", t.At), t.At));
                continue;
            }
            if (ReadValue() is { } v) positional.Add(v);
            else pos++;
        }
        var cmd = new PsCommand(head.Text, args, positional, head.At);
        // The rest of a pipeline: noted, except output formatting.
        while (pos < tokens.Count && tokens[pos].Kind == PsTokenKind.Pipe)
        {
            pos++;
            if (pos >= tokens.Count || tokens[pos].Kind != PsTokenKind.Word) continue;
            var next = tokens[pos];
            var rest = ReadCommand();
            if (!IsFormatting(rest.Name)) config.Note(next.At, $"'| {rest.Name}'", "only the first command of a pipeline is read");
        }
        return cmd;
    }

    private static bool IsFormatting(string name) => name.ToLowerInvariant() is "fl" or "format-list" or "ft" or "format-table" or "out-null" or "out-string" or "select-object" or "select";

    /// <summary>One value, or a comma list of values.</summary>
    private PsValue? ReadValue()
    {
        var first = ReadOne();
        if (first is null || pos >= tokens.Count || tokens[pos].Kind != PsTokenKind.Comma) return first;
        var items = new List<PsValue> { first };
        while (pos < tokens.Count && tokens[pos].Kind == PsTokenKind.Comma)
        {
            pos++;
            if (ReadOne() is { } v) items.Add(v);
        }
        return new PsList(items, first.At);
    }

    private PsValue? ReadOne()
    {
        if (pos >= tokens.Count) return null;
        var t = tokens[pos];
        switch (t.Kind)
        {
            case PsTokenKind.String:
                pos++;
                return new PsScalar(t.Text, t.At);
            case PsTokenKind.ExpandableString:
                pos++;
                return Expand(t);
            case PsTokenKind.Word:
                pos++;
                return new PsScalar(t.Text, t.At);
            case PsTokenKind.Variable:
                pos++;
                return Lookup(t.Text, t.At);
            case PsTokenKind.ArrayOpen:
            {
                pos++;
                var items = new List<PsValue>();
                while (pos < tokens.Count && tokens[pos].Kind != PsTokenKind.RParen)
                {
                    if (tokens[pos].Kind is PsTokenKind.Comma or PsTokenKind.NewLine or PsTokenKind.Semicolon) { pos++; continue; }
                    if (ReadOne() is { } v)
                    {
                        if (v is PsList l) items.AddRange(l.Items);
                        else items.Add(v);
                    }
                    else pos++;
                }
                pos++;
                return new PsList(items, t.At);
            }
            case PsTokenKind.LParen:
                return new PsUnknown(SkipGroup(), t.At);
            default:
                return null;
        }
    }

    private PsValue Scalar(string text, SourceLocation at) =>
        text.StartsWith('$') ? Lookup(text[1..], at) : new PsScalar(text, at);

    private PsValue Lookup(string name, SourceLocation at)
    {
        if (name.Equals("true", StringComparison.OrdinalIgnoreCase)) return new PsScalar("True", at);
        if (name.Equals("false", StringComparison.OrdinalIgnoreCase)) return new PsScalar("False", at);
        return variables.TryGetValue(name, out var v) ? v : new PsUnknown("$" + name, at);
    }

    /// <summary>"$name" and "${name}" in a double-quoted string take the variable's text; the value is traced to the string.</summary>
    private PsValue Expand(PsToken t)
    {
        var s = t.Text;
        if (!s.Contains('$')) return new PsScalar(s, t.At);
        var sb = new StringBuilder();
        SourceLocation? only = null;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '$' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            var braced = s[i + 1] == '{';
            var j = braced ? s.IndexOf('}', i) : i + 1;
            if (braced && j < 0) { sb.Append(s[i]); continue; }
            var nameStart = braced ? i + 2 : i + 1;
            if (!braced) while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] is '_' or ':')) j++;
            var name = s[nameStart..j];
            if (name.Length == 0) { sb.Append('$'); continue; }
            if (variables.TryGetValue(name, out var v) && v is PsScalar sv)
            {
                sb.Append(sv.Text);
                only = s == "$" + name || s == "${" + name + "}" ? sv.At : null;
            }
            else return new PsUnknown(s, t.At);
            i = braced ? j : j - 1;
        }
        return new PsScalar(sb.ToString(), only ?? t.At);
    }
}
