using WebhookFunctions.Core.Jobs;

namespace WebhookFunctions.Api.Jobs;

public sealed record JobResponse(
    string Id, string Kind, string Status, long Matched, long Resent, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    public static JobResponse From(RecoverJob job) => new(job.Id, job.Kind, job.Status, job.Matched, job.Resent, job.CreatedAt, job.CompletedAt);
}

public sealed record DryRunResponse(long Matched);
