using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Limits;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Tenancy;

public sealed class ApplicationService(Tables tables, IMemoryCache cache, TimeProvider clock, IOptions<QuotaOptions> quotas)
{
    // Ownership never changes once written, so it can be cached for long; a bounded entry count keeps memory flat.
    private static readonly TimeSpan OwnerCacheTime = TimeSpan.FromMinutes(10);

    private readonly int _maxPerMerchant = quotas.Value.MaxApplicationsPerMerchant;

    /// <summary>
    /// Adds the application and its merchant's count in one transaction, refusing past the quota, then
    /// its owner row. A failed owner row takes the application and its count back out.
    /// </summary>
    public async Task<Application> CreateAsync(string merchantId, string name, CancellationToken cancellationToken)
    {
        MerchantService.RequireName(name);
        var entity = new ApplicationEntity
        {
            PartitionKey = merchantId,
            RowKey = Ids.New(),
            Name = name,
            CreatedAt = Timestamps.Truncate(clock.GetUtcNow()),
        };
        await OptimisticConcurrency.RunAsync(async ct =>
        {
            var (counter, count) = await ReadCountAsync(merchantId, ct);
            if (count >= _maxPerMerchant)
            {
                throw new ConflictException(
                    $"This merchant already has the maximum of {_maxPerMerchant} applications ({QuotaOptions.Section}:{nameof(QuotaOptions.MaxApplicationsPerMerchant)}).");
            }

            await SubmitAsync([new(TableTransactionActionType.Add, entity), CounterAction(merchantId, counter, count + 1)], ct);
            return true;
        }, cancellationToken);

        try
        {
            await tables.ApplicationOwners.AddEntityAsync(
                new ApplicationOwnerEntity { PartitionKey = entity.RowKey, MerchantId = merchantId }, cancellationToken);
        }
        catch
        {
            await OptimisticConcurrency.RunAsync(async ct =>
            {
                var (counter, count) = await ReadCountAsync(merchantId, ct);
                await SubmitAsync(
                    [new(TableTransactionActionType.Delete, entity, ETag.All), CounterAction(merchantId, counter, Math.Max(0, count - 1))], ct);
                return true;
            }, CancellationToken.None);
            throw;
        }

        return ToModel(entity);
    }

    public async Task<(IReadOnlyList<Application> Items, bool More)> ListAsync(string merchantId, int limit, string? afterId, CancellationToken cancellationToken)
    {
        var filter = afterId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey lt {ApplicationCounterEntity.Row}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {afterId} and RowKey lt {ApplicationCounterEntity.Row}");
        var items = new List<Application>(limit + 1);
        await foreach (var entity in tables.Applications.QueryAsync<ApplicationEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            items.Add(ToModel(entity));
            if (items.Count > limit)
            {
                items.RemoveAt(limit);
                return (items, true);
            }
        }

        return (items, false);
    }

    public async Task<Application> GetOwnedAsync(string merchantId, string applicationId, CancellationToken cancellationToken)
    {
        await RequireOwnedAsync(merchantId, applicationId, cancellationToken);
        var found = await tables.Applications.GetEntityIfExistsAsync<ApplicationEntity>(merchantId, applicationId, cancellationToken: cancellationToken);
        return found.HasValue ? ToModel(found.Value!) : throw new NotFoundException($"Application '{applicationId}' does not exist.");
    }

    /// <summary>
    /// Checks that <paramref name="applicationId"/> belongs to <paramref name="merchantId"/>: 400 for a
    /// malformed id, 404 when there is no such application, 403 when it is another merchant's.
    /// </summary>
    public async Task RequireOwnedAsync(string merchantId, string applicationId, CancellationToken cancellationToken)
    {
        Ids.Require(applicationId, "applicationId");
        var owner = await OwnerOfAsync(applicationId, cancellationToken);
        if (owner is null)
        {
            throw new NotFoundException($"Application '{applicationId}' does not exist.");
        }

        if (!string.Equals(owner, merchantId, StringComparison.Ordinal))
        {
            throw new ForbiddenException("The application belongs to another merchant.");
        }
    }

    private async Task<string?> OwnerOfAsync(string applicationId, CancellationToken cancellationToken)
    {
        var cacheKey = "app-owner:" + applicationId;
        if (cache.TryGetValue(cacheKey, out string? owner))
        {
            return owner;
        }

        var found = await tables.ApplicationOwners.GetEntityIfExistsAsync<ApplicationOwnerEntity>(
            applicationId, ApplicationOwnerEntity.Row, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        owner = found.Value!.MerchantId;
        cache.Set(cacheKey, owner, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = OwnerCacheTime, Size = 1 });
        return owner;
    }

    /// <summary>
    /// The merchant's counter row and count. A merchant whose applications predate the counter has none
    /// yet: its applications are counted once, and the first create adds the row (a racing first create
    /// makes the add fail, and the loser reads the row the winner wrote).
    /// </summary>
    private async Task<(ApplicationCounterEntity? Counter, int Count)> ReadCountAsync(string merchantId, CancellationToken cancellationToken)
    {
        var found = await tables.Applications.GetEntityIfExistsAsync<ApplicationCounterEntity>(merchantId, ApplicationCounterEntity.Row, cancellationToken: cancellationToken);
        if (found.HasValue)
        {
            return (found.Value, found.Value!.Count);
        }

        var count = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey lt {ApplicationCounterEntity.Row}");
        await foreach (var _ in tables.Applications.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            count++;
        }

        return (null, count);
    }

    private static TableTransactionAction CounterAction(string merchantId, ApplicationCounterEntity? counter, int count)
    {
        var next = new ApplicationCounterEntity { PartitionKey = merchantId, Count = count };
        return counter is null
            ? new TableTransactionAction(TableTransactionActionType.Add, next)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, counter.ETag);
    }

    /// <summary>A transaction that failed because another writer moved the counter first is tried again.</summary>
    private async Task SubmitAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Applications.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new WriteConflictException();
        }
    }

    private static Application ToModel(ApplicationEntity entity) =>
        new(entity.RowKey, entity.PartitionKey, entity.Name, entity.CreatedAt);
}
