using System.Security.Cryptography;
using System.Text;

namespace WebhookFunctions.Core.Verification;

public static class VerificationStatus
{
    public const string Pending = "PENDING";
    public const string Verified = "VERIFIED";
}

/// <summary>
/// Send the webhook a challenge. <see cref="Nonce"/> is the one the webhook row asked for when it became pending
/// (or when VerifyWebhook asked again): a message for another nonce is stale, and a second message for the same
/// nonce finds its challenge already issued and leaves the link the owner may be about to open alone.
/// </summary>
public sealed record VerificationMessage(string MerchantId, string ApplicationId, string WebhookId, string Nonce);

/// <summary>Random values and their stored form: only SHA-256 hashes of the challenge and the link token are ever written.</summary>
public static class VerificationSecrets
{
    /// <summary>32 random bytes as 43 base64url characters.</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool LooksValid(string? value) =>
        value is { Length: 43 } && value.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_');

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static bool SameHash(string? storedHash, string value) =>
        storedHash is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHash), Encoding.ASCII.GetBytes(Hash(value)));
}
