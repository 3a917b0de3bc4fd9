using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>
/// Webhook rows with their URL index and per-application counter, always changed together in one
/// entity-group transaction inside the merchant's partition. Only point reads and single-partition
/// range queries.
/// </summary>
public sealed class WebhookRepository(Tables tables, IOptions<WebhookOptions> options)
{
    private readonly TableClient _table = tables.Webhooks;
    private readonly int _maxPerApplication = options.Value.MaxPerApplication;

    /// <summary>The webhook and the row it was read from, which a later write starts from.</summary>
    public sealed record Stored(Webhook Webhook, TableEntity Row);

    public async Task<Stored?> FindAsync(string merchantId, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(merchantId, WebhookEntity.RowKeyOf(applicationId, webhookId), cancellationToken: cancellationToken);
        return found.HasValue ? new Stored(WebhookEntity.ToModel(found.Value!), found.Value!) : null;
    }

    public async Task<(IReadOnlyList<Webhook> Items, bool More)> ListAsync(
        string merchantId, string applicationId, string? afterWebhookId, int limit, CancellationToken cancellationToken)
    {
        var lower = afterWebhookId is null ? applicationId + ":" : WebhookEntity.RowKeyOf(applicationId, afterWebhookId);
        var upper = applicationId + ";";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {lower} and RowKey lt {upper}");
        var items = new List<Webhook>(limit + 1);
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            items.Add(WebhookEntity.ToModel(row));
            if (items.Count > limit)
            {
                items.RemoveAt(limit);
                return (items, true);
            }
        }

        return (items, false);
    }

    /// <summary>Refuses early, before any secret is written, when the URL is taken or the application is full.</summary>
    public async Task CheckCanAddAsync(string merchantId, string applicationId, string url, CancellationToken cancellationToken)
    {
        if (await UrlTakenAsync(merchantId, applicationId, url, cancellationToken))
        {
            throw DuplicateUrl();
        }

        var counter = await FindCounterAsync(merchantId, applicationId, cancellationToken);
        if ((counter?.Count ?? 0) >= _maxPerApplication)
        {
            throw LimitReached();
        }
    }

    public Task<Webhook> InsertAsync(Webhook webhook, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync(async ct =>
        {
            var counter = await FindCounterAsync(webhook.MerchantId, webhook.ApplicationId, ct);
            var count = counter?.Count ?? 0;
            if (count >= _maxPerApplication)
            {
                throw LimitReached();
            }

            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, WebhookEntity.ToEntity(webhook)),
                new(TableTransactionActionType.Add, UrlIndex(webhook)),
                CounterAction(webhook.MerchantId, webhook.ApplicationId, counter, count + 1),
            };

            if (await TrySubmitAsync(actions, ct) is { } response)
            {
                return webhook with { Version = response.Value[0].Headers.ETag ?? default };
            }

            if (await UrlTakenAsync(webhook.MerchantId, webhook.ApplicationId, webhook.Url, ct))
            {
                throw DuplicateUrl();
            }

            // Otherwise another create or delete moved the counter first: read it again and retry.
            throw new WriteConflictException();
        }, cancellationToken);

    /// <summary>
    /// Writes <paramref name="updated"/> over <paramref name="current"/> if the row has not changed
    /// since it was read: <see cref="PreconditionFailedException"/> if it has, <see cref="NotFoundException"/>
    /// if it is gone. Columns this version does not map are carried over from the row as read.
    /// </summary>
    public async Task<Webhook> ReplaceAsync(Stored current, Webhook updated, CancellationToken cancellationToken)
    {
        var row = WebhookEntity.ToEntity(updated, current.Row);
        if (string.Equals(current.Webhook.Url, updated.Url, StringComparison.Ordinal))
        {
            try
            {
                var response = await _table.UpdateEntityAsync(row, current.Row.ETag, TableUpdateMode.Replace, cancellationToken);
                return updated with { Version = response.Headers.ETag ?? default };
            }
            catch (RequestFailedException exception) when (exception.Status == 404)
            {
                throw Gone(updated.Id);
            }
            catch (RequestFailedException exception) when (exception.Status == 412)
            {
                throw new PreconditionFailedException();
            }
        }

        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.UpdateReplace, row, current.Row.ETag),
            new(TableTransactionActionType.Delete, UrlIndex(current.Webhook), ETag.All),
            new(TableTransactionActionType.Add, UrlIndex(updated)),
        };
        if (await TrySubmitAsync(actions, cancellationToken) is { } result)
        {
            return updated with { Version = result.Value[0].Headers.ETag ?? default };
        }

        var now = await FindAsync(updated.MerchantId, updated.ApplicationId, updated.Id, cancellationToken) ?? throw Gone(updated.Id);
        throw now.Row.ETag != current.Row.ETag ? new PreconditionFailedException() : DuplicateUrl();
    }

    /// <summary>Deletes the webhook, its URL index row and its count; false when it was already gone.</summary>
    public Task<bool> DeleteAsync(Stored current, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync(async ct =>
        {
            var webhook = current.Webhook;
            var counter = await FindCounterAsync(webhook.MerchantId, webhook.ApplicationId, ct);
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Delete, current.Row, current.Row.ETag),
                new(TableTransactionActionType.Delete, UrlIndex(webhook), ETag.All),
            };
            if (counter is not null)
            {
                actions.Add(CounterAction(webhook.MerchantId, webhook.ApplicationId, counter, Math.Max(0, counter.Count - 1)));
            }

            if (await TrySubmitAsync(actions, ct) is not null)
            {
                return true;
            }

            var now = await FindAsync(webhook.MerchantId, webhook.ApplicationId, webhook.Id, ct);
            if (now is null)
            {
                return false;
            }

            // The webhook changed: the caller's view is stale. Otherwise the counter moved: retry.
            throw now.Row.ETag != current.Row.ETag ? new PreconditionFailedException() : new WriteConflictException();
        }, cancellationToken);

    private async Task<Response<IReadOnlyList<Response>>?> TrySubmitAsync(List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            return await _table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 400 or 404 or 409 or 412)
        {
            // Which action failed is worked out by reading state again, which does not depend on
            // how the service reports the failing index.
            return null;
        }
    }

    private async Task<bool> UrlTakenAsync(string merchantId, string applicationId, string url, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<WebhookUrlIndexEntity>(
            merchantId, WebhookUrlIndexEntity.RowKeyOf(applicationId, url), ["RowKey"], cancellationToken);
        return found.HasValue;
    }

    private async Task<WebhookCounterEntity?> FindCounterAsync(string merchantId, string applicationId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<WebhookCounterEntity>(merchantId, WebhookCounterEntity.RowKeyOf(applicationId), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    private static TableTransactionAction CounterAction(string merchantId, string applicationId, WebhookCounterEntity? counter, int count)
    {
        var next = new WebhookCounterEntity { PartitionKey = merchantId, RowKey = WebhookCounterEntity.RowKeyOf(applicationId), Count = count };
        return counter is null
            ? new TableTransactionAction(TableTransactionActionType.Add, next)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, counter.ETag);
    }

    private static WebhookUrlIndexEntity UrlIndex(Webhook webhook) => new()
    {
        PartitionKey = webhook.MerchantId,
        RowKey = WebhookUrlIndexEntity.RowKeyOf(webhook.ApplicationId, webhook.Url),
        WebhookId = webhook.Id,
    };

    internal static NotFoundException Gone(string webhookId) => new($"Webhook '{webhookId}' does not exist.");

    private static ConflictException DuplicateUrl() =>
        new("A webhook with this URL already exists on this application.", new ErrorDetail("url", "Is already registered on this application"));

    private ConflictException LimitReached() =>
        new($"This application already has the maximum of {_maxPerApplication} webhooks.");
}
