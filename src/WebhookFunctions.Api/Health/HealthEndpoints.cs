using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Api.Health;

public sealed record HealthReport(string Status, string Storage, string SecretStore);

/// <summary>Reports whether storage and the secret store answer, each within a short probe deadline.</summary>
public sealed class HealthEndpoints(Tables tables, ISecretStore secrets)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public async Task<IResult> GetAsync(HttpContext httpContext)
    {
        var storage = ProbeAsync(ct => tables.Merchants.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health-probe", "health-probe", ["RowKey"], ct), httpContext.RequestAborted);
        var secretStore = ProbeAsync(secrets.ProbeAsync, httpContext.RequestAborted);
        var report = new HealthReport("healthy", await storage, await secretStore);
        return report is { Storage: "reachable", SecretStore: "reachable" }
            ? ApiResults.Ok(report)
            : ApiResults.Json(StatusCodes.Status503ServiceUnavailable, report with { Status = "unhealthy" });
    }

    private static async Task<string> ProbeAsync(Func<CancellationToken, Task> probe, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await probe(timeout.Token);
            return "reachable";
        }
        catch (Exception)
        {
            return "unreachable";
        }
    }
}
