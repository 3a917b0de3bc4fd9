using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Jobs;

/// <summary>Jobs and their owner rows in <c>Jobs</c>.</summary>
public sealed class JobStore(Tables tables)
{
    private readonly TableClient _table = tables.Jobs;

    /// <summary>The owner row first: a job row without one would read as 404 to its owner's neighbours, never as someone else's.</summary>
    public async Task CreateAsync(RecoverJob job, CancellationToken cancellationToken)
    {
        await _table.UpsertEntityAsync(JobEntity.Owner(job), TableUpdateMode.Replace, cancellationToken);
        await _table.AddEntityAsync(JobEntity.ToEntity(job), cancellationToken);
    }

    public async Task<RecoverJob?> FindAsync(string merchantId, string jobId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(merchantId, jobId, cancellationToken: cancellationToken);
        return found.HasValue ? JobEntity.ToModel(found.Value!) : null;
    }

    /// <summary>The merchant a job belongs to and when it was created, or null when there is no such job.</summary>
    public async Task<(string MerchantId, DateTimeOffset CreatedAt)?> OwnerAsync(string jobId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(jobId, JobEntity.OwnerRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? (found.Value!.GetString("MerchantId"), found.Value.GetDateTimeOffset("CreatedAt") ?? default) : null;
    }

    /// <summary>Saves <paramref name="updated"/> if the job is still at its version; null if another writer (a duplicate message) got there first.</summary>
    public async Task<RecoverJob?> TrySaveAsync(RecoverJob updated, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(JobEntity.ToEntity(updated), updated.Version, TableUpdateMode.Replace, cancellationToken);
            return updated with { Version = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>Running jobs, for the sweep: a scan, which is maintenance, not a request path.</summary>
    public async IAsyncEnumerable<RecoverJob> RunningAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Status eq {JobStatus.Running}"), cancellationToken: cancellationToken))
        {
            yield return JobEntity.ToModel(row);
        }
    }
}
