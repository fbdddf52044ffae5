using System.Globalization;
using System.Text;
using Nodes.Topology;

namespace Nodes.Config.Formats;

/// <summary>A JSON value with the position it starts at, so imported values can say where they were written.</summary>
internal abstract record JValue(SourceLocation At);

internal sealed record JString(string Value, SourceLocation At) : JValue(At);

/// <summary>A number, true or false, as written.</summary>
internal sealed record JLiteral(string Text, SourceLocation At) : JValue(At);

internal sealed record JNull(SourceLocation At) : JValue(At);

internal sealed record JArray(List<JValue> Items, SourceLocation At) : JValue(At);

internal sealed record JObject(List<(string Key, SourceLocation KeyAt, JValue Value)> Members, SourceLocation At) : JValue(At)
{
    /// <summary>The member named <paramref name="key"/> (ARM and the REST API are case-insensitive about names).</summary>
    public JValue? this[string key] => Members.LastOrDefault(m => string.Equals(m.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>The error a malformed JSON file gives: where, and what was expected.</summary>
internal sealed class JsonSyntaxException(SourceLocation at, string message) : Exception(message)
{
    public SourceLocation At { get; } = at;
}

/// <summary>
/// A small RFC 8259 reader that keeps line and column of every value (System.Text.Json reports byte offsets only).
/// Comments and trailing commas, which ARM templates allow, are accepted.
/// </summary>
internal sealed class JsonReader(string text, string file)
{
    private int i, line = 1, lineStart;

    public static JValue Parse(string text, string file)
    {
        var r = new JsonReader(text, file);
        r.Skip();
        var v = r.Value();
        r.Skip();
        if (r.i < text.Length) throw new JsonSyntaxException(r.Here, $"unexpected '{text[r.i]}' after the JSON value");
        return v;
    }

    private SourceLocation Here => new(file, line, i - lineStart + 1);

    private void Skip()
    {
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n') { i++; line++; lineStart = i; }
            else if (c is ' ' or '\t' or '\r' or '\uFEFF') i++;
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/') { while (i < text.Length && text[i] != '\n') i++; }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                var stop = end < 0 ? text.Length : end + 2;
                for (; i < stop; i++)
                    if (text[i] == '\n') { line++; lineStart = i + 1; }
            }
            else break;
        }
    }

    private JValue Value()
    {
        if (i >= text.Length) throw new JsonSyntaxException(Here, "the file ends where a value was expected");
        var at = Here;
        switch (text[i])
        {
            case '{':
            {
                i++;
                var members = new List<(string, SourceLocation, JValue)>();
                Skip();
                while (i < text.Length && text[i] != '}')
                {
                    var keyAt = Here;
                    if (text[i] != '"') throw new JsonSyntaxException(Here, $"expected a member name in quotes, found '{text[i]}'");
                    var key = String();
                    Skip();
                    if (i >= text.Length || text[i] != ':') throw new JsonSyntaxException(Here, $"expected ':' after \"{key}\"");
                    i++;
                    Skip();
                    members.Add((key, keyAt, Value()));
                    Skip();
                    if (i < text.Length && text[i] == ',') { i++; Skip(); continue; }
                    if (i < text.Length && text[i] != '}') throw new JsonSyntaxException(Here, $"expected ',' or '}}' after the value of \"{key}\"");
                }
                if (i >= text.Length) throw new JsonSyntaxException(at, "this object is never closed with '}'");
                i++;
                return new JObject(members, at);
            }
            case '[':
            {
                i++;
                var items = new List<JValue>();
                Skip();
                while (i < text.Length && text[i] != ']')
                {
                    items.Add(Value());
                    Skip();
                    if (i < text.Length && text[i] == ',') { i++; Skip(); continue; }
                    if (i < text.Length && text[i] != ']') throw new JsonSyntaxException(Here, "expected ',' or ']' in the array");
                }
                if (i >= text.Length) throw new JsonSyntaxException(at, "this array is never closed with ']'");
                i++;
                return new JArray(items, at);
            }
            case '"':
                return new JString(String(), at);
            default:
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '-' or '+' or '.')) i++;
                var word = text[start..i];
                if (word == "null") return new JNull(at);
                if (word is "true" or "false" || double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return new JLiteral(word, at);
                throw new JsonSyntaxException(at, word.Length == 0 ? $"unexpected '{text[i]}'" : $"'{word}' is not a JSON value");
            }
        }
    }

    private string String()
    {
        var at = Here;
        i++;
        var sb = new StringBuilder();
        while (i < text.Length && text[i] != '"')
        {
            var c = text[i++];
            if (c == '\n') throw new JsonSyntaxException(at, "a string runs past the end of the line");
            if (c != '\\') { sb.Append(c); continue; }
            if (i >= text.Length) break;
            var e = text[i++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u' when i + 4 <= text.Length && int.TryParse(text.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u):
                    sb.Append((char)u);
                    i += 4;
                    break;
                default: sb.Append(e); break;
            }
        }
        if (i >= text.Length) throw new JsonSyntaxException(at, "this string is never closed");
        i++;
        return sb.ToString();
    }
}
