using System.Security.Cryptography;

namespace WebhookFunctions.Core.Signing;

/// <summary>Standard Webhooks signing secrets: <c>whsec_</c> and the padded base64 of 32 CSPRNG bytes.</summary>
public static class SigningSecret
{
    public const string Prefix = "whsec_";
    public const int KeyBytes = 32;

    public static string Generate() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>The only part of a secret that is ever shown again: its last four characters.</summary>
    public static string Fingerprint(string secret) => Prefix + "****" + secret[^4..];

    public static byte[] KeyOf(string secret) =>
        Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);
}
