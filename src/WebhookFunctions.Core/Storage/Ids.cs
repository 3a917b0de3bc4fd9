using System.Diagnostics.CodeAnalysis;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Core.Storage;

/// <summary>Resource ids: lowercase UUIDv7, so row keys sort in creation order.</summary>
public static class Ids
{
    public static string New() => Guid.CreateVersion7().ToString("D");

    public static bool IsValid([NotNullWhen(true)] string? value) =>
        value is { Length: 36 }
        && Guid.TryParseExact(value, "D", out _)
        && !value.Any(char.IsUpper);

    /// <summary>Rejects a malformed id before it reaches storage.</summary>
    public static string Require(string? value, string field) =>
        IsValid(value)
            ? value
            : throw new ValidationException(new ErrorDetail(field, "Must be a lowercase UUID"));

    /// <summary>
    /// The id with every hex digit complemented (0↔f): UUIDv7s sort by creation time, so their
    /// complements sort newest first, and the mapping is its own inverse.
    /// </summary>
    public static string Descending(string id) =>
        string.Create(id.Length, id, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c == '-' ? c : "fedcba9876543210"[Convert.ToInt32(c.ToString(), 16)];
            }
        });
}
