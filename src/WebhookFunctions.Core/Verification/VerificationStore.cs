using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>The challenge issued for one nonce, as the webhook row records it: hashes only.</summary>
public sealed record IssuedChallenge(string Nonce, string ChallengeHash, string TokenHash, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt, bool Sent);

/// <summary>A verification link's lookup row: <c>Verifications</c>, PK the SHA-256 of the token, so the link carries nothing else.</summary>
public sealed record VerificationToken(string TokenHash, string MerchantId, string ApplicationId, string WebhookId, string Nonce, DateTimeOffset ExpiresAt, ETag Version);

/// <summary>
/// The issued challenge lives in columns of the webhook row that <see cref="WebhookEntity"/> does not map (it
/// carries unknown columns over on every write), so a PATCH never loses it and a URL change, which sets a new
/// nonce, makes it stale at once. The link token has a lookup row of its own, keyed by its hash.
/// </summary>
public sealed class VerificationStore(Tables tables)
{
    private const string IssuedNonce = "VerificationIssuedNonce";
    private const string ChallengeHash = "VerificationChallengeHash";
    private const string TokenHash = "VerificationTokenHash";
    private const string ExpiresAt = "VerificationExpiresAt";
    private const string IssuedAt = "VerificationIssuedAt";
    private const string Sent = "VerificationSent";
    private const string TokenRowKey = "token";

    public static IssuedChallenge? IssuedOf(TableEntity row) =>
        row.GetString(IssuedNonce) is { Length: > 0 } nonce
            ? new IssuedChallenge(
                nonce, row.GetString(ChallengeHash) ?? string.Empty, row.GetString(TokenHash) ?? string.Empty,
                row.GetDateTimeOffset(ExpiresAt) ?? default, row.GetDateTimeOffset(IssuedAt) ?? default, row.GetBoolean(Sent) ?? false)
            : null;

    /// <summary>Records a newly issued challenge on the row as read; false if the row changed or went meanwhile.</summary>
    public async Task<ETag?> TryIssueAsync(TableEntity row, IssuedChallenge issued, CancellationToken cancellationToken)
    {
        var update = new TableEntity(row.PartitionKey, row.RowKey)
        {
            [IssuedNonce] = issued.Nonce,
            [ChallengeHash] = issued.ChallengeHash,
            [TokenHash] = issued.TokenHash,
            [ExpiresAt] = issued.ExpiresAt,
            [IssuedAt] = issued.IssuedAt,
            [Sent] = false,
        };
        try
        {
            var response = await tables.Webhooks.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
            return response.Headers.ETag;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Notes that the challenge went out, so a late duplicate message does not issue another; best effort, and only
    /// on the row as this handler issued it.
    /// </summary>
    public async Task MarkSentAsync(Webhook webhook, ETag issuedVersion, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Webhooks.UpdateEntityAsync(
                new TableEntity(webhook.MerchantId, WebhookEntity.RowKeyOf(webhook.ApplicationId, webhook.Id)) { [Sent] = true },
                issuedVersion, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
        }
    }

    /// <summary>
    /// Marks the webhook verified if the row is still as read, and drops the link's hash so the link cannot be used
    /// again; false if the row changed meanwhile.
    /// </summary>
    public async Task<bool> TryVerifyAsync(TableEntity row, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var update = new TableEntity(row.PartitionKey, row.RowKey)
        {
            [WebhookEntity.VerificationStatus] = VerificationStatus.Verified,
            [WebhookEntity.VerifiedAt] = now,
            [WebhookEntity.UpdatedAt] = now,
            [TokenHash] = string.Empty,
            [ChallengeHash] = string.Empty,
        };
        try
        {
            await tables.Webhooks.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return false;
        }
    }

    public Task AddTokenAsync(string tokenHash, Webhook webhook, string nonce, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken) =>
        tables.Verifications.AddEntityAsync(new TableEntity(tokenHash, TokenRowKey)
        {
            ["MerchantId"] = webhook.MerchantId,
            ["ApplicationId"] = webhook.ApplicationId,
            ["WebhookId"] = webhook.Id,
            ["Nonce"] = nonce,
            ["ExpiresAt"] = expiresAt,
            ["CreatedAt"] = now,
        }, cancellationToken);

    public async Task<VerificationToken?> FindTokenAsync(string tokenHash, CancellationToken cancellationToken)
    {
        var found = await tables.Verifications.GetEntityIfExistsAsync<TableEntity>(tokenHash, TokenRowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;
        return new VerificationToken(
            tokenHash, row.GetString("MerchantId"), row.GetString("ApplicationId"), row.GetString("WebhookId"), row.GetString("Nonce"),
            row.GetDateTimeOffset("ExpiresAt") ?? default, row.ETag);
    }

    /// <summary>Removes a link's lookup row; a link the webhook row no longer names is refused anyway, so failure is harmless.</summary>
    public async Task DeleteTokenQuietlyAsync(string? tokenHash, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(tokenHash))
        {
            return;
        }

        try
        {
            await tables.Verifications.DeleteEntityAsync(tokenHash, TokenRowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException)
        {
        }
    }
}
