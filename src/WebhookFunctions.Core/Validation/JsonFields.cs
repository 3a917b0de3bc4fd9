using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Core.Validation;

/// <summary>
/// Field readers every body parser shares, so that one rule reads the same everywhere: each problem is
/// added to the list rather than thrown, and the caller reports them all in one 400.
/// </summary>
public static partial class JsonFields
{
    private const int MaxShownNameLength = 64;

    public static ErrorDetail Unrecognised(string name, bool readOnly = false) =>
        new(Shown(name), readOnly ? "Is read-only" : "Is not a recognised property");

    /// <summary>A client-supplied name cut to a length that is safe to echo, marked when cut.</summary>
    public static string Shown(string name, int maxLength = MaxShownNameLength) =>
        name.Length > maxLength ? name[..maxLength] + "…" : name;

    /// <summary>
    /// Zero-width and bidirectional formatting characters: invisible, they make a name or a
    /// description read differently from what it holds (<c>invoice\u202Efdp.exe</c> shows as
    /// <c>invoiceexe.pdf</c>). No field of this API needs them.
    /// </summary>
    private static readonly SearchValues<char> Invisible = SearchValues.Create(
        "\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\uFEFF");

    /// <summary>A string value, refused (null, with the reason added) when it holds an invisible or direction-changing character.</summary>
    public static string? ReadString(JsonElement value, string field, List<ErrorDetail> errors)
    {
        string? text;
        try
        {
            text = value.GetString();
        }
        catch (InvalidOperationException)
        {
            errors.Add(new ErrorDetail(field, "Must be valid Unicode text"));
            return null;
        }

        if (text is not null && text.AsSpan().ContainsAny(Invisible))
        {
            errors.Add(new ErrorDetail(field,
                "Must not contain zero-width or bidirectional formatting characters (U+200B to U+200F, U+202A to U+202E, U+2066 to U+2069, U+FEFF)"));
            return null;
        }

        return text;
    }

    public static bool? ReadBoolean(JsonElement value, string field, List<ErrorDetail> errors)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        errors.Add(new ErrorDetail(field, "Must be true or false"));
        return null;
    }

    /// <summary>
    /// An ISO 8601 timestamp with a date, a time and an offset (<c>2027-06-30T00:00:00Z</c>): the only
    /// form the API documents, so locale formats such as <c>01/02/2027</c> or RFC 1123 are refused
    /// rather than guessed at.
    /// </summary>
    public static DateTimeOffset? ReadTimestamp(JsonElement value, string field, List<ErrorDetail> errors)
    {
        if (value.ValueKind == JsonValueKind.String && ReadString(value, field, errors) is { } text
            && Iso8601().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return parsed;
        }

        errors.Add(new ErrorDetail(field, "Must be an ISO 8601 timestamp with a time and an offset, e.g. 2027-06-30T00:00:00Z"));
        return null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Iso8601();
}
