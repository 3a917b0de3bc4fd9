using System.Security.Cryptography;
using System.Text;

namespace WebhookFunctions.Core.Signing;

/// <summary>
/// Standard Webhooks v1 signatures: HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c>,
/// base64, prefixed <c>v1,</c>; several secrets give several space-separated signatures.
/// </summary>
public static class WebhookSigner
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    public static string Sign(string messageId, long timestamp, ReadOnlySpan<byte> body, IEnumerable<string> secrets)
    {
        var prefix = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return string.Join(' ', secrets.Select(secret =>
            "v1," + Convert.ToBase64String(HMACSHA256.HashData(SigningSecret.KeyOf(secret), content))));
    }
}
