using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Storage;

namespace WebhookFunctions.Api.Webhooks;

/// <summary>
/// Webhook rows with their URL index and per-application counter, always changed together in one
/// entity-group transaction inside the merchant's partition. Only point reads and single-partition
/// range queries.
/// </summary>
public sealed class WebhookRepository(Tables tables, IOptions<WebhookOptions> options)
{
    private const int MaxAttempts = 20;
    private readonly TableClient _table = tables.Webhooks;
    private readonly int _maxPerApplication = options.Value.MaxPerApplication;

    public async Task<WebhookEntity?> FindAsync(string merchantId, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<WebhookEntity>(merchantId, WebhookEntity.RowKeyOf(applicationId, webhookId), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    public async Task<(IReadOnlyList<WebhookEntity> Items, bool More)> ListAsync(
        string merchantId, string applicationId, string? afterWebhookId, int limit, CancellationToken cancellationToken)
    {
        var lower = afterWebhookId is null ? applicationId + ":" : WebhookEntity.RowKeyOf(applicationId, afterWebhookId);
        var upper = applicationId + ";";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {lower} and RowKey lt {upper}");
        var items = new List<WebhookEntity>(limit + 1);
        await foreach (var entity in _table.QueryAsync<WebhookEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            items.Add(entity);
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

    public async Task<WebhookEntity> InsertAsync(WebhookEntity entity, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            await BackoffAsync(attempt, cancellationToken);
            var counter = await FindCounterAsync(entity.PartitionKey, entity.ApplicationId, cancellationToken);
            var count = counter?.Count ?? 0;
            if (count >= _maxPerApplication)
            {
                throw LimitReached();
            }

            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, entity),
                new(TableTransactionActionType.Add, UrlIndex(entity)),
                CounterAction(entity.PartitionKey, entity.ApplicationId, counter, count + 1),
            };

            if (await TrySubmitAsync(actions, cancellationToken) is { } response)
            {
                entity.ETag = response.Value[0].Headers.ETag ?? default;
                return entity;
            }

            if (await UrlTakenAsync(entity.PartitionKey, entity.ApplicationId, entity.Url, cancellationToken))
            {
                throw DuplicateUrl();
            }

            // Otherwise another create or delete moved the counter first: read it again and retry.
        }

        throw Busy();
    }

    /// <summary>Replaces <paramref name="current"/> with <paramref name="updated"/> if it has not changed since it was read.</summary>
    public async Task<WebhookEntity> ReplaceAsync(WebhookEntity current, WebhookEntity updated, CancellationToken cancellationToken)
    {
        if (string.Equals(current.Url, updated.Url, StringComparison.Ordinal))
        {
            try
            {
                var response = await _table.UpdateEntityAsync(updated, current.ETag, TableUpdateMode.Replace, cancellationToken);
                updated.ETag = response.Headers.ETag ?? default;
                return updated;
            }
            catch (RequestFailedException exception) when (exception.Status is 412 or 404)
            {
                throw new ApiException(exception.Status == 404 ? StatusCodes.Status404NotFound : StatusCodes.Status412PreconditionFailed);
            }
        }

        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.UpdateReplace, updated, current.ETag),
            new(TableTransactionActionType.Delete, UrlIndex(current), ETag.All),
            new(TableTransactionActionType.Add, UrlIndex(updated)),
        };
        if (await TrySubmitAsync(actions, cancellationToken) is { } result)
        {
            updated.ETag = result.Value[0].Headers.ETag ?? default;
            return updated;
        }

        var now = await FindAsync(current.PartitionKey, current.ApplicationId, current.WebhookId, cancellationToken);
        if (now is null)
        {
            throw new ApiException(StatusCodes.Status404NotFound);
        }

        if (now.ETag != current.ETag)
        {
            throw new ApiException(StatusCodes.Status412PreconditionFailed);
        }

        throw DuplicateUrl();
    }

    /// <summary>Deletes the webhook, its URL index row and its count; false when it was already gone.</summary>
    public async Task<bool> DeleteAsync(WebhookEntity current, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            await BackoffAsync(attempt, cancellationToken);
            var counter = await FindCounterAsync(current.PartitionKey, current.ApplicationId, cancellationToken);
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Delete, current, current.ETag),
                new(TableTransactionActionType.Delete, UrlIndex(current), ETag.All),
            };
            if (counter is not null)
            {
                actions.Add(CounterAction(current.PartitionKey, current.ApplicationId, counter, Math.Max(0, counter.Count - 1)));
            }

            if (await TrySubmitAsync(actions, cancellationToken) is not null)
            {
                return true;
            }

            var now = await FindAsync(current.PartitionKey, current.ApplicationId, current.WebhookId, cancellationToken);
            if (now is null)
            {
                return false;
            }

            if (now.ETag != current.ETag)
            {
                throw new ApiException(StatusCodes.Status412PreconditionFailed);
            }
        }

        throw Busy();
    }

    /// <summary>
    /// Every create and delete on an application updates its one counter row, so busy applications
    /// contend on it. Retrying at once lets the same writers collide again; a short, growing, random
    /// pause spreads them out (the first attempt does not wait).
    /// </summary>
    private static Task BackoffAsync(int attempt, CancellationToken cancellationToken) =>
        attempt == 0 ? Task.CompletedTask : Task.Delay(Random.Shared.Next(1, Math.Min(5 << attempt, 100)), cancellationToken);

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

    private static WebhookUrlIndexEntity UrlIndex(WebhookEntity webhook) => new()
    {
        PartitionKey = webhook.PartitionKey,
        RowKey = WebhookUrlIndexEntity.RowKeyOf(webhook.ApplicationId, webhook.Url),
        WebhookId = webhook.WebhookId,
    };

    private static ApiException DuplicateUrl() =>
        ApiException.Conflict("A webhook with this URL already exists on this application.", new ErrorDetail("url", "Is already registered on this application"));

    private ApiException LimitReached() =>
        ApiException.Conflict($"This application already has the maximum of {_maxPerApplication} webhooks.");

    private static ApiException Busy() =>
        ApiException.Conflict("Too many concurrent changes to this application's webhooks; retry the request.");
}
