using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Secrets;
using WebhookFunctions.Api.Signing;
using WebhookFunctions.Api.Storage;
using WebhookFunctions.Api.Tenancy;

namespace WebhookFunctions.Api.Webhooks;

/// <summary>
/// Webhook use cases. The secret store is written on create (and rotate) only; reads, lists and
/// updates never touch it, since the record carries the fingerprint and the current version.
/// </summary>
public sealed class WebhookService(
    WebhookRepository repository,
    ISecretStore secrets,
    ApplicationService applications,
    TimeProvider clock,
    ILogger<WebhookService> logger)
{
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A patch that changes no field: applying it copies the record with a fresh updatedAt.</summary>
    private static readonly WebhookPatch NoChange = new(null, false, null, null, null);

    public async Task<(WebhookEntity Webhook, string SigningSecret)> CreateAsync(
        Caller caller, string applicationId, WebhookDraft draft, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        await repository.CheckCanAddAsync(caller.MerchantId, applicationId, draft.Url, cancellationToken);

        var webhookId = Ids.New();
        var secret = SigningSecret.Generate();
        var secretName = SecretNames.ForWebhook(webhookId);
        var version = await secrets.SetAsync(secretName, secret, SecretNames.Tags(caller.MerchantId, applicationId, webhookId), cancellationToken);

        var now = Now();
        var entity = new WebhookEntity
        {
            PartitionKey = caller.MerchantId,
            RowKey = WebhookEntity.RowKeyOf(applicationId, webhookId),
            ApplicationId = applicationId,
            WebhookId = webhookId,
            Url = draft.Url,
            Description = draft.Description,
            IsActive = draft.IsActive,
            SubscribedEvents = JsonSerializer.Serialize(draft.SubscribedEvents),
            KeyFingerprint = SigningSecret.Fingerprint(secret),
            SecretVersion = version,
            CreatedAt = now,
            UpdatedAt = now,
        };

        try
        {
            return (await repository.InsertAsync(entity, cancellationToken), secret);
        }
        catch
        {
            // The record never became visible: take the secret back so nothing is left half-made.
            await DeleteSecretQuietlyAsync(secretName);
            throw;
        }
    }

    public async Task<WebhookEntity> GetAsync(Caller caller, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(webhookId, "webhookId");
        return await repository.FindAsync(caller.MerchantId, applicationId, webhookId, cancellationToken)
            ?? throw ApiException.NotFound($"Webhook '{webhookId}' does not exist.");
    }

    public async Task<Page<WebhookEntity>> ListAsync(Caller caller, string applicationId, int limit, string? after, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        var (items, more) = await repository.ListAsync(caller.MerchantId, applicationId, after, limit, cancellationToken);
        return new Page<WebhookEntity>(items, more ? PageTokens.Encode(items[^1].WebhookId) : null);
    }

    public async Task<WebhookEntity> UpdateAsync(
        Caller caller, string applicationId, string webhookId, WebhookPatch patch, IfMatch? ifMatch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await GetAsync(caller, applicationId, webhookId, cancellationToken);
            ifMatch?.Require(current.ETag);
            var updated = Apply(current, patch);
            try
            {
                return await repository.ReplaceAsync(current, updated, cancellationToken);
            }
            catch (ApiException exception) when (exception.StatusCode == StatusCodes.Status412PreconditionFailed && ifMatch is null)
            {
                // No precondition was asked for: apply the same change to the newer state.
            }
        }
    }

    public async Task DeleteAsync(Caller caller, string applicationId, string webhookId, IfMatch? ifMatch, CancellationToken cancellationToken)
    {
        var current = await GetAsync(caller, applicationId, webhookId, cancellationToken);
        ifMatch?.Require(current.ETag);
        if (!await repository.DeleteAsync(current, cancellationToken))
        {
            throw ApiException.NotFound($"Webhook '{webhookId}' does not exist.");
        }

        // Record first, then the secret: a failure here leaves an orphan secret for the sweep, never a webhook without one.
        await DeleteSecretQuietlyAsync(SecretNames.ForWebhook(webhookId));
    }

    /// <summary>
    /// Writes a new secret version, then points the record at it, keeping the old version valid for
    /// <paramref name="gracePeriod"/>. The record is the only authority on which version is current,
    /// so if the record write fails the new version is simply never used.
    /// </summary>
    public async Task<(WebhookEntity Webhook, string SigningSecret)> RotateSecretAsync(
        Caller caller, string applicationId, string webhookId, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        var current = await GetAsync(caller, applicationId, webhookId, cancellationToken);
        var secret = SigningSecret.Generate();
        var version = await secrets.SetAsync(
            SecretNames.ForWebhook(webhookId), secret, SecretNames.Tags(caller.MerchantId, applicationId, webhookId), cancellationToken);

        while (true)
        {
            var now = Now();
            var updated = Apply(current, NoChange);
            updated.SecretVersion = version;
            updated.KeyFingerprint = SigningSecret.Fingerprint(secret);
            // At most one previous secret: whatever was previous before this rotation ends now.
            updated.PreviousSecretVersion = gracePeriod > TimeSpan.Zero ? current.SecretVersion : null;
            updated.PreviousSecretExpiresAt = now + gracePeriod;
            try
            {
                return (await repository.ReplaceAsync(current, updated, cancellationToken), secret);
            }
            catch (ApiException exception) when (exception.StatusCode == StatusCodes.Status412PreconditionFailed)
            {
                // Someone patched the webhook meanwhile: rotate on top of their change with the same new version.
                current = await GetAsync(caller, applicationId, webhookId, cancellationToken);
            }
        }
    }

    public static WebhookResponse ToResponse(WebhookEntity entity) => new(
        entity.WebhookId,
        entity.ApplicationId,
        entity.Url,
        entity.Description,
        entity.IsActive,
        JsonSerializer.Deserialize<string[]>(entity.SubscribedEvents) ?? [],
        entity.KeyFingerprint,
        entity.LastTestAt,
        entity.LastTestStatus,
        entity.CreatedAt,
        entity.UpdatedAt);

    private WebhookEntity Apply(WebhookEntity current, WebhookPatch patch) => new()
    {
        PartitionKey = current.PartitionKey,
        RowKey = current.RowKey,
        ApplicationId = current.ApplicationId,
        WebhookId = current.WebhookId,
        Url = patch.Url ?? current.Url,
        Description = patch.HasDescription ? patch.Description : current.Description,
        IsActive = patch.IsActive ?? current.IsActive,
        SubscribedEvents = patch.SubscribedEvents is { } events ? JsonSerializer.Serialize(events) : current.SubscribedEvents,
        KeyFingerprint = current.KeyFingerprint,
        SecretVersion = current.SecretVersion,
        PreviousSecretVersion = current.PreviousSecretVersion,
        PreviousSecretExpiresAt = current.PreviousSecretExpiresAt,
        LastTestAt = current.LastTestAt,
        LastTestStatus = current.LastTestStatus,
        CreatedAt = current.CreatedAt,
        UpdatedAt = Now(),
    };

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
