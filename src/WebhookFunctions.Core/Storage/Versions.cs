using System.Security.Cryptography;
using System.Text;
using Azure;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Core.Storage;

/// <summary>
/// A record's version as clients see it: a strong, opaque tag derived from the table entity's (weak,
/// timestamp-shaped) ETag, so that storage details do not leak.
/// </summary>
public static class Versions
{
    public static string Of(ETag storageETag) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storageETag.ToString())))[..32] + "\"";
}

/// <summary>The versions a caller expects a record to be at (an If-Match): any one of them, or any version at all.</summary>
public sealed class VersionPrecondition(IReadOnlyList<string> strongTags, bool anyVersion)
{
    public bool Matches(ETag storageETag)
    {
        if (anyVersion)
        {
            return true;
        }

        var current = Versions.Of(storageETag);
        return strongTags.Any(t => t.Equals(current, StringComparison.Ordinal));
    }

    public void Require(ETag storageETag)
    {
        if (!Matches(storageETag))
        {
            throw new PreconditionFailedException();
        }
    }
}
