using Microsoft.AspNetCore.Http;

namespace WebhookFunctions.Api.Idempotency;

/// <summary>
/// What an idempotent handler returns: its result, and which plaintext secret the result carries, so
/// that the record stores a reference to it instead of the value, and the response is marked
/// <c>Cache-Control: no-store</c>.
/// </summary>
public sealed record IdempotentResult(IResult Result, ReplaySecret? Secret = null);

/// <summary>A plaintext secret in a response body, and how a replay can (or cannot) show it again.</summary>
public abstract record ReplaySecret(string Property)
{
    public const string SigningSecretProperty = "signingSecret";

    /// <summary>A signing secret, read again from the secret store by webhook and version.</summary>
    public sealed record SigningSecret(string WebhookId, string Version) : ReplaySecret(SigningSecretProperty);

    /// <summary>An API key: only its hash is stored anywhere, so a replay cannot show it.</summary>
    public sealed record ApiKey(string KeyId) : ReplaySecret("key");
}
