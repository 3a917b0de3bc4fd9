using System.Security.Cryptography;
using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// The API's strong ETags, derived from the table entity's (weak, timestamp-shaped) ETag so that
/// storage details do not leak and If-Match can use the strong comparison HTTP requires.
/// </summary>
public static class ETags
{
    public static string ToHttp(ETag storageETag) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storageETag.ToString())))[..32] + "\"";

    /// <summary>The If-Match precondition of a request: null when absent, 400 when malformed.</summary>
    public static IfMatch? ReadIfMatch(HttpRequest request)
    {
        var values = request.Headers[HeaderNames.IfMatch];
        if (StringValues.IsNullOrEmpty(values))
        {
            return null;
        }

        if (values.Count != 1 || !EntityTagHeaderValue.TryParseStrictList(values, out var tags) || tags.Count == 0)
        {
            throw ApiException.BadRequest(new ErrorDetail("If-Match", "Must be * or a list of quoted ETags"));
        }

        return new IfMatch(tags);
    }
}

public sealed class IfMatch(IList<EntityTagHeaderValue> tags)
{
    public bool Matches(ETag storageETag)
    {
        var current = ETags.ToHttp(storageETag);
        return tags.Any(t => t.Tag == "*" || (!t.IsWeak && t.Tag.Equals(current, StringComparison.Ordinal)));
    }

    public void Require(ETag storageETag)
    {
        if (!Matches(storageETag))
        {
            throw new ApiException(StatusCodes.Status412PreconditionFailed);
        }
    }
}
