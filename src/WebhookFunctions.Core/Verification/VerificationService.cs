using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>What opening a verification link came to.</summary>
public sealed record VerificationResult(string WebhookId, string VerificationStatus, DateTimeOffset VerifiedAt);

/// <summary>Asking for a new challenge, confirming by link, and the one way a webhook becomes verified.</summary>
public sealed class VerificationService(
    WebhookRepository repository,
    ApplicationService applications,
    VerificationStore store,
    VerificationRequests requests,
    VerificationGate gate,
    TimeProvider clock,
    ILogger<VerificationService> logger)
{
    /// <summary>
    /// VerifyWebhook: a new nonce on the row, then a challenge for it. The earlier link stops working, since the
    /// row no longer names it. A verified webhook has nothing to prove: 409.
    /// </summary>
    public async Task<Webhook> RequestAsync(Caller caller, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(webhookId, "webhookId");
        var (webhook, nonce) = await OptimisticConcurrency.RunAsync(async ct =>
        {
            var current = await repository.FindAsync(caller.MerchantId, applicationId, webhookId, ct) ?? throw WebhookRepository.Gone(webhookId);
            if (current.Webhook.VerificationStatus == VerificationStatus.Verified)
            {
                throw new ConflictException("This webhook is verified already; a new URL is verified again when it is set.");
            }

            var nonce = Ids.New();
            try
            {
                return (await repository.ReplaceAsync(current, current.Webhook with { VerificationNonce = nonce }, ct), nonce);
            }
            catch (PreconditionFailedException)
            {
                throw new WriteConflictException();
            }
        }, cancellationToken);

        await requests.RequestAsync(webhook, nonce, cancellationToken);
        return webhook;
    }

    /// <summary>
    /// Opening the link: valid for an hour, once, and only while the webhook still names it (a URL change or a
    /// newer challenge retires it). Every refusal is the same 404, so the link reveals nothing about why.
    /// </summary>
    public async Task<VerificationResult> ConfirmAsync(string token, CancellationToken cancellationToken)
    {
        if (!VerificationSecrets.LooksValid(token))
        {
            throw Unknown();
        }

        var hash = VerificationSecrets.Hash(token);
        var found = await store.FindTokenAsync(hash, cancellationToken);
        if (found is null || found.ExpiresAt <= clock.GetUtcNow())
        {
            throw Unknown();
        }

        var current = await repository.FindAsync(found.MerchantId, found.ApplicationId, found.WebhookId, cancellationToken) ?? throw Unknown();
        var verified = await VerifyAsync(current.Webhook, row => VerificationStore.IssuedOf(row) is { } issued
            && issued.Nonce == found.Nonce && issued.ExpiresAt > clock.GetUtcNow() && VerificationSecrets.SameHash(issued.TokenHash, token), cancellationToken);
        await store.DeleteTokenQuietlyAsync(hash, cancellationToken);
        return verified is null ? throw Unknown() : new VerificationResult(verified.Id, VerificationStatus.Verified, verified.VerifiedAt!.Value);
    }

    /// <summary>
    /// Marks the webhook verified if it is still pending on the challenge <paramref name="stillValid"/> recognises
    /// (its nonce is also the row's current one), then releases its waiting deliveries. Null when it no longer applies.
    /// </summary>
    public async Task<Webhook?> VerifyAsync(Webhook webhook, Func<TableEntity, bool> stillValid, CancellationToken cancellationToken)
    {
        var verified = await OptimisticConcurrency.RunAsync(async ct =>
        {
            var current = await repository.FindAsync(webhook.MerchantId, webhook.ApplicationId, webhook.Id, ct);
            if (current is null || current.Webhook.VerificationStatus != VerificationStatus.Pending
                || VerificationStore.IssuedOf(current.Row)?.Nonce != current.Webhook.VerificationNonce || !stillValid(current.Row))
            {
                return null;
            }

            var now = Timestamps.Truncate(clock.GetUtcNow());
            return await store.TryVerifyAsync(current.Row, now, ct)
                ? current.Webhook with { VerificationStatus = VerificationStatus.Verified, VerifiedAt = now, UpdatedAt = now }
                : throw new WriteConflictException();
        }, cancellationToken);

        if (verified is not null)
        {
            logger.LogInformation("Webhook {WebhookId} verified", verified.Id);
            await gate.ReleaseAsync(verified, cancellationToken);
        }

        return verified;
    }

    private static NotFoundException Unknown() => new("This verification link is unknown, used or expired.");
}
