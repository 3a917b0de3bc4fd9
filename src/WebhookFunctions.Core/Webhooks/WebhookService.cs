using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Verification;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>
/// Webhook use cases. The secret store is written on create (and rotate) only; reads, lists and
/// updates never touch it, since the record carries the fingerprint and the current version.
/// </summary>
public sealed class WebhookService(
    WebhookRepository repository,
    ISecretStore secrets,
    ApplicationService applications,
    DeliveryStore deliveries,
    TimeProvider clock,
    IOptions<ApiOptions> apiOptions,
    IOptions<WebhookOptions> webhookOptions,
    VerificationRequests verificationRequests,
    ILogger<WebhookService> logger)
{
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetireTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a secret version may still be on its way to becoming current: a rotation writes its
    /// version, then the record, within its request deadline. Overlapping rotations of one webhook let
    /// the older one's record write land last, so only versions older than this are ever retired.
    /// </summary>
    private readonly TimeSpan _inFlightWindow = TimeSpan.FromSeconds(2 * apiOptions.Value.RequestTimeoutSeconds);

    public async Task<(Webhook Webhook, string SigningSecret)> CreateAsync(
        Caller caller, string applicationId, WebhookDraft draft, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        await repository.CheckCanAddAsync(caller.MerchantId, applicationId, draft.Url, cancellationToken);

        var webhookId = Ids.New();
        var secret = SigningSecret.Generate();
        var secretName = SecretNames.ForWebhook(webhookId);
        var version = await secrets.SetAsync(secretName, secret, SecretNames.Tags(caller.MerchantId, applicationId, webhookId), cancellationToken);

        var now = Now();
        var webhook = new Webhook
        {
            MerchantId = caller.MerchantId,
            ApplicationId = applicationId,
            Id = webhookId,
            Url = draft.Url,
            Description = draft.Description,
            IsActive = draft.IsActive,
            SubscribedEvents = draft.SubscribedEvents,
            RateLimitPerSecond = draft.RateLimitPerSecond,
            KeyFingerprint = SigningSecret.Fingerprint(secret),
            SecretVersion = version,
            CreatedAt = now,
            UpdatedAt = now,
        };
        webhook = NeedsVerification(webhook, now);

        Webhook inserted;
        try
        {
            inserted = await repository.InsertAsync(webhook, cancellationToken);
        }
        catch
        {
            // The record never became visible: take the secret back so nothing is left half-made.
            await DeleteSecretQuietlyAsync(secretName);
            throw;
        }

        await verificationRequests.RequestQuietlyAsync(inserted, cancellationToken);
        return (inserted, secret);
    }

    /// <summary>A new URL has not been agreed to by its owner: pending, with a nonce for the challenge it is owed.</summary>
    private Webhook NeedsVerification(Webhook webhook, DateTimeOffset now) => webhookOptions.Value.RequireVerification
        ? webhook with { VerificationStatus = VerificationStatus.Pending, VerifiedAt = null, VerificationPendingSince = now, VerificationNonce = Ids.New() }
        : webhook with { VerificationStatus = VerificationStatus.Verified, VerifiedAt = now, VerificationPendingSince = null, VerificationNonce = null };

    public async Task<Webhook> GetAsync(Caller caller, string applicationId, string webhookId, CancellationToken cancellationToken) =>
        (await FindOwnedAsync(caller, applicationId, webhookId, cancellationToken)).Webhook;

    public async Task<Page<Webhook>> ListAsync(Caller caller, string applicationId, int limit, string? after, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        var (items, more) = await repository.ListAsync(caller.MerchantId, applicationId, after, limit, cancellationToken);
        return new Page<Webhook>(items, more ? PageTokens.Encode(items[^1].Id) : null);
    }

    public async Task<Webhook> UpdateAsync(
        Caller caller, string applicationId, string webhookId, WebhookPatch patch, VersionPrecondition? expected, CancellationToken cancellationToken)
    {
        var urlBefore = string.Empty;
        var updated = await OptimisticConcurrency.RunAsync(async ct =>
        {
            var current = await FindOwnedAsync(caller, applicationId, webhookId, ct);
            expected?.Require(current.Webhook.Version);
            urlBefore = current.Webhook.Url;
            try
            {
                return await repository.ReplaceAsync(current, Apply(current.Webhook, patch), ct);
            }
            catch (PreconditionFailedException) when (expected is null)
            {
                // No precondition was asked for: apply the same change to the newer state.
                throw new WriteConflictException();
            }
        }, cancellationToken);

        if (!string.Equals(urlBefore, updated.Url, StringComparison.Ordinal))
        {
            // The row naming the new nonce is written: now the challenge it is owed.
            await verificationRequests.RequestQuietlyAsync(updated, cancellationToken);
        }

        if (patch.IsActive == true)
        {
            // Re-enabling starts the failure streak afresh, so the next failure cannot disable it at once.
            await deliveries.ResetStreakAsync(webhookId, cancellationToken);
        }

        return updated;
    }

    /// <summary>
    /// Disables a webhook on the service's own account (a 410, or a failure streak). True only for the
    /// call that disabled it, so exactly one <c>webhook.disabled</c> event follows.
    /// </summary>
    public Task<Webhook?> DisableAsync(string merchantId, string applicationId, string webhookId, string reason, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync(async ct =>
        {
            var current = await repository.FindAsync(merchantId, applicationId, webhookId, ct);
            if (current is null || !current.Webhook.IsActive)
            {
                return null;
            }

            var now = Now();
            try
            {
                return await repository.ReplaceAsync(
                    current, current.Webhook with { IsActive = false, DisabledReason = reason, DisabledAt = now, UpdatedAt = now }, ct);
            }
            catch (Exception exception) when (exception is PreconditionFailedException or NotFoundException)
            {
                throw new WriteConflictException();
            }
        }, cancellationToken);

    /// <summary>A webhook read on the service's own account, not a caller's: delivery work uses it.</summary>
    public async Task<Webhook?> FindAsync(string merchantId, string applicationId, string webhookId, CancellationToken cancellationToken) =>
        (await repository.FindAsync(merchantId, applicationId, webhookId, cancellationToken))?.Webhook;

    /// <summary>Every webhook of an application, for fan-out (at most <c>Webhooks:MaxPerApplication</c>).</summary>
    public async Task<IReadOnlyList<Webhook>> AllOfAsync(string merchantId, string applicationId, CancellationToken cancellationToken)
    {
        var all = new List<Webhook>();
        string? after = null;
        while (true)
        {
            var (items, more) = await repository.ListAsync(merchantId, applicationId, after, PageTokens.MaxLimit, cancellationToken);
            all.AddRange(items);
            if (!more)
            {
                return all;
            }

            after = items[^1].Id;
        }
    }

    public async Task DeleteAsync(Caller caller, string applicationId, string webhookId, VersionPrecondition? expected, CancellationToken cancellationToken)
    {
        var current = await FindOwnedAsync(caller, applicationId, webhookId, cancellationToken);
        expected?.Require(current.Webhook.Version);
        if (!await repository.DeleteAsync(current, cancellationToken))
        {
            throw WebhookRepository.Gone(webhookId);
        }

        // Record first, then the secret: a failure here leaves an orphan secret for the sweep, never a webhook without one.
        await DeleteSecretQuietlyAsync(SecretNames.ForWebhook(webhookId));
    }

    /// <summary>
    /// Writes a new secret version, then points the record at it, keeping the old version valid for
    /// <paramref name="gracePeriod"/>. The record is the only authority on which version is current,
    /// so if the record write fails the new version is simply never used.
    /// </summary>
    public async Task<(Webhook Webhook, string SigningSecret)> RotateSecretAsync(
        Caller caller, string applicationId, string webhookId, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        await FindOwnedAsync(caller, applicationId, webhookId, cancellationToken);
        var secret = SigningSecret.Generate();
        var version = await secrets.SetAsync(
            SecretNames.ForWebhook(webhookId), secret, SecretNames.Tags(caller.MerchantId, applicationId, webhookId), cancellationToken);

        var rotated = await OptimisticConcurrency.RunAsync(async ct =>
        {
            // Someone may patch the webhook meanwhile: each try rotates on top of the latest state with the same new version.
            var current = await FindOwnedAsync(caller, applicationId, webhookId, ct);
            var now = Now();
            var updated = current.Webhook with
            {
                SecretVersion = version,
                KeyFingerprint = SigningSecret.Fingerprint(secret),
                // At most one previous secret: whatever was previous before this rotation ends now.
                PreviousSecretVersion = gracePeriod > TimeSpan.Zero ? current.Webhook.SecretVersion : null,
                PreviousSecretExpiresAt = now + gracePeriod,
                UpdatedAt = now,
            };
            try
            {
                return await repository.ReplaceAsync(current, updated, ct);
            }
            catch (PreconditionFailedException)
            {
                throw new WriteConflictException();
            }
        }, cancellationToken);
        await RetireOldVersionsQuietlyAsync(rotated, cancellationToken);
        return (rotated, secret);
    }

    private async Task<WebhookRepository.Stored> FindOwnedAsync(Caller caller, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(webhookId, "webhookId");
        return await repository.FindAsync(caller.MerchantId, applicationId, webhookId, cancellationToken)
            ?? throw WebhookRepository.Gone(webhookId);
    }

    private Webhook Apply(Webhook current, WebhookPatch patch)
    {
        var now = Now();
        var (reason, disabledAt) = patch.IsActive switch
        {
            true => ((string?)null, (DateTimeOffset?)null),
            false when current.IsActive => (DisabledReasons.Manual, now),
            _ => (current.DisabledReason, current.DisabledAt),
        };
        var changed = patch.Url is not null && !string.Equals(patch.Url, current.Url, StringComparison.Ordinal);
        return (changed ? NeedsVerification(current, now) : current) with
        {
            Url = patch.Url ?? current.Url,
            Description = patch.HasDescription ? patch.Description : current.Description,
            IsActive = patch.IsActive ?? current.IsActive,
            SubscribedEvents = patch.SubscribedEvents ?? current.SubscribedEvents,
            RateLimitPerSecond = patch.HasRateLimit ? patch.RateLimitPerSecond : current.RateLimitPerSecond,
            DisabledReason = reason,
            DisabledAt = disabledAt,
            UpdatedAt = now,
        };
    }

    /// <summary>
    /// Keeps the versions the record names (current and previous) and retires older ones, so versions do
    /// not pile up one per rotation. Best effort: the rotation has happened, so a failure here is only
    /// logged, and the next rotation retires what this one left.
    /// </summary>
    private async Task RetireOldVersionsQuietlyAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        string[] keep = webhook.PreviousSecretVersion is { } previous ? [webhook.SecretVersion, previous] : [webhook.SecretVersion];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RetireTimeout);
            await secrets.RetireVersionsAsync(SecretNames.ForWebhook(webhook.Id), keep, clock.GetUtcNow() - _inFlightWindow, timeout.Token);
        }
        catch (Exception exception)
        {
            logger.LogWarning("Could not retire old versions of the secret of webhook {WebhookId} ({ExceptionType}); the next rotation will",
                webhook.Id, exception.GetType().Name);
        }
    }

    private async Task DeleteSecretQuietlyAsync(string secretName)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            await secrets.DeleteAsync(secretName, timeout.Token);
        }
        catch (Exception exception)
        {
            logger.LogWarning("Could not delete secret {SecretName} ({ExceptionType}); the orphan sweep will remove it", secretName, exception.GetType().Name);
        }
    }

    private DateTimeOffset Now() => Timestamps.Truncate(clock.GetUtcNow());
}
