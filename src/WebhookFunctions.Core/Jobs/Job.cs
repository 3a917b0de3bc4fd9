using Azure;

namespace WebhookFunctions.Core.Jobs;

public static class JobKinds
{
    public const string Recover = "recover";
}

public static class JobStatus
{
    public const string Running = "RUNNING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
}

/// <summary>
/// A recover job: the deliveries of one webhook whose status is in <see cref="Statuses"/> and whose event
/// was created in [<see cref="Since"/>, <see cref="Until"/>), put back to pending a page at a time.
/// <see cref="Cursor"/> is the row key of the last delivery a saved page reached; it only moves forward.
/// </summary>
public sealed record RecoverJob
{
    public required string Id { get; init; }

    public required string MerchantId { get; init; }

    public required string ApplicationId { get; init; }

    public required string WebhookId { get; init; }

    public string Kind { get; init; } = JobKinds.Recover;

    public required string Status { get; init; }

    public required DateTimeOffset Since { get; init; }

    public required DateTimeOffset Until { get; init; }

    public required IReadOnlyList<string> Statuses { get; init; }

    public string? Cursor { get; init; }

    public long Matched { get; init; }

    public long Resent { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When a page was last saved (or the job created): the sweep re-drives a running job that has not moved for a while.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    public string? Error { get; init; }

    public ETag Version { get; init; }
}

/// <summary>What a merchant asks to recover.</summary>
public sealed record RecoverRequest(DateTimeOffset Since, DateTimeOffset? Until, IReadOnlyList<string> Statuses, bool DryRun);

/// <summary>Run the next page of a job. Ids only; the job row holds where it stands, so a duplicate message finds the page done.</summary>
public sealed record JobMessage(string MerchantId, string JobId);
