using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>
/// Sends a pending webhook its challenge: a signed POST, with the headers of any delivery, carrying a random
/// challenge and a single-use link. Only hashes of both are stored. An answer that echoes the challenge verifies
/// the webhook; any other answer, a 5xx or silence leaves it pending (there is no hidden retry: the owner can
/// open the link, or the merchant can ask again with VerifyWebhook).
/// </summary>
public sealed class ChallengeProcessor(
    WebhookRepository repository,
    VerificationStore store,
    VerificationLinks links,
    VerificationService verification,
    ISecretStore secrets,
    WebhookSender sender,
    TimeProvider clock,
    ILogger<ChallengeProcessor> logger)
{
    public const string EventType = "webhook.verification";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(1);

    /// <summary>
    /// A challenge issued but not yet marked sent is taken to be on its way for this long: a duplicate message
    /// meanwhile leaves it alone, and after it (the first handler died before sending) issues a fresh one.
    /// </summary>
    private static readonly TimeSpan SendLease = Timeout + TimeSpan.FromSeconds(50);

    public async Task HandleAsync(VerificationMessage message, CancellationToken cancellationToken)
    {
        var issued = await OptimisticConcurrency.RunAsync(ct => IssueAsync(message, ct), cancellationToken);
        if (issued is null)
        {
            return;
        }

        var (webhook, challenge, token, version) = issued.Value;
        var now = clock.GetUtcNow();
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            type = EventType,
            timestamp = Timestamps.Truncate(now),
            data = new { challenge, verificationUrl = links.For(token) },
        }, ApiJson.Options);
        var signing = await SigningSecrets.OfAsync(secrets, webhook, now, cancellationToken);
        var result = await sender.SendAsync(webhook.Url, "msg_" + Guid.CreateVersion7().ToString("N"), now, body, signing, Timeout, cancellationToken);
        await store.MarkSentAsync(webhook, version, cancellationToken);

        if (result.Succeeded && Echoes(result.ResponseBody, challenge))
        {
            await verification.VerifyAsync(webhook, row => VerificationStore.IssuedOf(row) is { } recorded && recorded.Nonce == message.Nonce
                && VerificationSecrets.SameHash(recorded.ChallengeHash, challenge), cancellationToken);
            return;
        }

        logger.LogInformation("Webhook {WebhookId} stays pending: its challenge was not echoed ({Outcome})",
            webhook.Id, result.Error ?? "the answer did not echo the challenge");
    }

    /// <summary>Issues the challenge for the message's nonce, or null when there is nothing to send.</summary>
    private async Task<(Webhook Webhook, string Challenge, string Token, Azure.ETag Version)?> IssueAsync(VerificationMessage message, CancellationToken cancellationToken)
    {
        var current = await repository.FindAsync(message.MerchantId, message.ApplicationId, message.WebhookId, cancellationToken);
        if (current is null || current.Webhook.VerificationStatus != VerificationStatus.Pending
            || !string.Equals(current.Webhook.VerificationNonce, message.Nonce, StringComparison.Ordinal))
        {
            // Gone, verified already, or a newer challenge was asked for: this message is stale.
            return null;
        }

        var now = clock.GetUtcNow();
        var previous = VerificationStore.IssuedOf(current.Row);
        if (previous is not null && previous.Nonce == message.Nonce && (previous.Sent || now - previous.IssuedAt < SendLease))
        {
            // A duplicate of a message already handled (or being handled): a new challenge would invalidate the
            // link its owner may be about to open.
            return null;
        }

        var challenge = VerificationSecrets.New();
        var token = VerificationSecrets.New();
        var issued = new IssuedChallenge(
            message.Nonce, VerificationSecrets.Hash(challenge), VerificationSecrets.Hash(token), now + LinkLifetime, now, Sent: false);

        // The lookup row first: if the webhook write then fails, it names a token the webhook does not, and is refused.
        await store.AddTokenAsync(issued.TokenHash, current.Webhook, message.Nonce, issued.ExpiresAt, now, cancellationToken);
        if (await store.TryIssueAsync(current.Row, issued, cancellationToken) is not { } version)
        {
            await store.DeleteTokenQuietlyAsync(issued.TokenHash, cancellationToken);
            throw new WriteConflictException();
        }

        await store.DeleteTokenQuietlyAsync(previous?.TokenHash, cancellationToken);
        return (current.Webhook, challenge, token, version);
    }

    /// <summary>A JSON object whose <c>challenge</c> is exactly the one sent.</summary>
    public static bool Echoes(string? responseBody, string challenge)
    {
        if (string.IsNullOrWhiteSpace(responseBody))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(responseBody);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("challenge", out var echoed)
                && echoed.ValueKind == JsonValueKind.String
                && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    Encoding.UTF8.GetBytes(echoed.GetString()!), Encoding.UTF8.GetBytes(challenge));
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
