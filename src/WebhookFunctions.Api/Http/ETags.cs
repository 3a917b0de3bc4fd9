using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Api.Http;

/// <summary>ETag and If-Match headers over the domain's <see cref="Versions"/>.</summary>
public static class ETags
{
    public static string ToHttp(ETag storageETag) => Versions.Of(storageETag);

    /// <summary>The If-Match precondition of a request: null when absent, 400 when malformed.</summary>
    public static VersionPrecondition? ReadIfMatch(HttpRequest request)
    {
        var values = request.Headers[HeaderNames.IfMatch];
        if (StringValues.IsNullOrEmpty(values))
        {
            return null;
        }

        if (values.Count != 1 || !EntityTagHeaderValue.TryParseStrictList(values, out var tags) || tags.Count == 0)
        {
            throw new ValidationException(new ErrorDetail("If-Match", "Must be * or a list of quoted ETags"));
        }

        // Weak tags never match: If-Match uses the strong comparison.
        return new VersionPrecondition(
            tags.Where(t => !t.IsWeak && t.Tag != "*").Select(t => t.Tag.ToString()).ToList(),
            anyVersion: tags.Any(t => t.Tag == "*"));
    }
}
