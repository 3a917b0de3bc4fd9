using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Api.Telemetry;

/// <summary>
/// The service's own trace source and meter, and the names of what they emit. Every tag value is
/// drawn from a fixed set (operation names, status classes, outcomes), never from a request, so no
/// key, secret or URL can reach a metric and the number of series stays bounded.
/// </summary>
public static class WebhookTelemetry
{
    public const string Name = "WebhookFunctions";

    /// <summary>Span attribute: the request id the caller got back in <c>x-request-id</c>.</summary>
    public const string RequestIdAttribute = "webhook.request_id";

    /// <summary>Span attribute and metric tag: the operation of <see cref="ApiOperations"/>, or <see cref="Unmatched"/>.</summary>
    public const string OperationAttribute = "webhook.operation";

    /// <summary>Metric tag: <c>1xx</c> to <c>5xx</c>.</summary>
    public const string StatusClassAttribute = "webhook.status_class";

    /// <summary>Metric tag: <c>created</c>, <c>updated</c>, <c>deleted</c> or <c>secret_rotated</c>.</summary>
    public const string ChangeAttribute = "webhook.change";

    /// <summary>Metric tag: <c>succeeded</c>, <c>failed</c> or <c>unknown</c>.</summary>
    public const string OutcomeAttribute = "webhook.test.outcome";

    public const string Unmatched = "unmatched";

    public const string RequestsInstrument = "webhook.api.requests";
    public const string RequestDurationInstrument = "webhook.api.request.duration";
    public const string WebhookChangesInstrument = "webhook.webhooks.changed";
    public const string TestDeliveriesInstrument = "webhook.test_deliveries";

    public static ActivitySource ActivitySource { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        RequestsInstrument, "{request}", "API requests by operation and status class.");

    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        RequestDurationInstrument, "s", "Time from the request reaching the service to its response being complete.",
        tags: null,
        // The OpenTelemetry HTTP server buckets, so these line up with http.server.request.duration.
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });

    private static readonly Counter<long> WebhookChanges = Meter.CreateCounter<long>(
        WebhookChangesInstrument, "{webhook}", "Webhooks created, updated, deleted or given a new signing secret.");

    private static readonly Counter<long> TestDeliveries = Meter.CreateCounter<long>(
        TestDeliveriesInstrument, "{delivery}", "Test events sent to webhook endpoints, by outcome.");

    private static readonly FrozenSet<string> OperationNames =
        ApiOperations.All.Select(o => o.Name).ToFrozenSet(StringComparer.Ordinal);

    private static readonly string[] StatusClasses = ["other", "1xx", "2xx", "3xx", "4xx", "5xx"];

    /// <summary>The operation name if it is one of ours; anything else (a 404 path, a framework endpoint) is one bucket.</summary>
    public static string OperationOrUnmatched(string? name) =>
        name is not null && OperationNames.TryGetValue(name, out var known) ? known : Unmatched;

    public static string StatusClass(int statusCode) => StatusClasses[statusCode is >= 100 and < 600 ? statusCode / 100 : 0];

    internal static void RecordRequest(string operation, int statusCode, TimeSpan duration)
    {
        var tags = new TagList
        {
            { OperationAttribute, operation },
            { StatusClassAttribute, StatusClass(statusCode) },
        };
        Requests.Add(1, tags);
        RequestDuration.Record(duration.TotalSeconds, tags);
    }

    internal static void RecordWebhookChange(string change) => WebhookChanges.Add(1, new KeyValuePair<string, object?>(ChangeAttribute, change));

    internal static void RecordTestDelivery(string outcome) => TestDeliveries.Add(1, new KeyValuePair<string, object?>(OutcomeAttribute, outcome));
}
