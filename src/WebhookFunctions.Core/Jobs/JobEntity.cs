using Azure.Data.Tables;

namespace WebhookFunctions.Core.Jobs;

/// <summary>
/// The rows of <c>Jobs</c>: the job itself in its merchant's partition (<c>{merchantId}</c>, <c>{jobId}</c>),
/// and an owner row (<c>{jobId}</c>, <c>owner</c>) so a read by another merchant can be told apart from
/// one of a job that does not exist. Both carry <c>CreatedAt</c>, which the retention purge goes by.
/// </summary>
public static class JobEntity
{
    public const string OwnerRowKey = "owner";

    public static TableEntity ToEntity(RecoverJob job)
    {
        var row = new TableEntity(job.MerchantId, job.Id)
        {
            ETag = job.Version,
            ["Kind"] = job.Kind,
            ["Status"] = job.Status,
            ["ApplicationId"] = job.ApplicationId,
            ["WebhookId"] = job.WebhookId,
            ["Since"] = job.Since,
            ["Until"] = job.Until,
            ["Statuses"] = string.Join(',', job.Statuses),
            ["Cursor"] = job.Cursor,
            ["Matched"] = job.Matched,
            ["Resent"] = job.Resent,
            ["CreatedAt"] = job.CreatedAt,
            ["CompletedAt"] = job.CompletedAt,
            ["UpdatedAt"] = job.UpdatedAt,
            ["Error"] = job.Error,
        };
        foreach (var key in row.Keys.Where(k => row[k] is null).ToList())
        {
            row.Remove(key);
        }

        return row;
    }

    public static RecoverJob ToModel(TableEntity row) => new()
    {
        Id = row.RowKey,
        MerchantId = row.PartitionKey,
        Kind = row.GetString("Kind") ?? JobKinds.Recover,
        Status = row.GetString("Status"),
        ApplicationId = row.GetString("ApplicationId"),
        WebhookId = row.GetString("WebhookId"),
        Since = row.GetDateTimeOffset("Since") ?? default,
        Until = row.GetDateTimeOffset("Until") ?? default,
        Statuses = (row.GetString("Statuses") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        Cursor = row.GetString("Cursor"),
        Matched = row.GetInt64("Matched") ?? 0,
        Resent = row.GetInt64("Resent") ?? 0,
        CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? default,
        CompletedAt = row.GetDateTimeOffset("CompletedAt"),
        UpdatedAt = row.GetDateTimeOffset("UpdatedAt") ?? default,
        Error = row.GetString("Error"),
        Version = row.ETag,
    };

    public static TableEntity Owner(RecoverJob job) => new(job.Id, OwnerRowKey)
    {
        ["MerchantId"] = job.MerchantId,
        ["CreatedAt"] = job.CreatedAt,
    };
}
