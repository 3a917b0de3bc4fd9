using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Tenancy;

public sealed class ApplicationService(Tables tables, IMemoryCache cache, TimeProvider clock)
{
    // Ownership never changes once written, so it can be cached for long; a bounded entry count keeps memory flat.
    private static readonly TimeSpan OwnerCacheTime = TimeSpan.FromMinutes(10);

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
        await tables.Applications.AddEntityAsync(entity, cancellationToken);
        try
        {
            await tables.ApplicationOwners.AddEntityAsync(
                new ApplicationOwnerEntity { PartitionKey = entity.RowKey, MerchantId = merchantId }, cancellationToken);
        }
        catch
        {
            await tables.Applications.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, ETag.All, CancellationToken.None);
            throw;
        }

        return ToModel(entity);
    }

    public async Task<(IReadOnlyList<Application> Items, bool More)> ListAsync(string merchantId, int limit, string? afterId, CancellationToken cancellationToken)
    {
        var filter = afterId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {merchantId}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {afterId}");
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

    private static Application ToModel(ApplicationEntity entity) =>
        new(entity.RowKey, entity.PartitionKey, entity.Name, entity.CreatedAt);
}
