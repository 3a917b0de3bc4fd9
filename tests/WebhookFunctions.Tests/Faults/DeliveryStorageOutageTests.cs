using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using WebhookFunctions.Development;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Faults;

/// <summary>Storage stopped while events flow, then started again on the same data: nothing acknowledged is lost.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DeliveryStorageOutageTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Publishes_during_an_outage_fail_fast_and_every_acknowledged_event_is_delivered_after_it()
    {
        var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory)!;
        var data = Directory.CreateTempSubdirectory("azurite-outage-");
        var (port, queuePort, blobPort) = (AzuriteProcess.FreePort(), AzuriteProcess.FreePort(), AzuriteProcess.FreePort());
        var accounts = $"devstoreaccount1:{Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))}";
        var azurite = await AzuriteProcess.StartAsync(tools, port, data.FullName, accounts, null, CancellationToken.None, queuePort, blobPort);
        try
        {
            await using var receiver = await Receiver.StartAsync();
            await using var host = await TestHost.StartAsync(azurite.ConnectionString(accounts.Split(':', 2)[1]), null,
                "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true", "Delivery:RunWorkers=true",
                "Delivery:RetrySchedule=500ms,1s,2s,4s", "Delivery:RedriveAfterSeconds=2", "Delivery:SweepIntervalSeconds=1",
                "Api:RequestTimeoutSeconds=5", "Storage:MaxRetries=0");
            var tenant = await host.NewTenantAsync();
            await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") });
            var acknowledged = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                acknowledged.Add(await PublishAsync(tenant) ?? throw new InvalidOperationException("publish before the outage failed"));
            }

            await azurite.DisposeAsync();
            var outage = new List<(HttpStatusCode Status, TimeSpan Took)>();
            for (var i = 0; i < 5; i++)
            {
                var timer = Stopwatch.StartNew();
                using var response = await tenant.Http.PostAsync($"/api/v1/applications/{tenant.ApplicationId}/events",
                    Http.Json(new { eventType = "session.completed", payload = new { during = i } }));
                outage.Add((response.StatusCode, timer.Elapsed));
            }

            azurite = await AzuriteProcess.StartAsync(tools, port, data.FullName, accounts, null, CancellationToken.None, queuePort, blobPort);
            var recovery = Stopwatch.StartNew();
            while (acknowledged.Count < 40 && recovery.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (await PublishAsync(tenant) is { } id)
                {
                    acknowledged.Add(id);
                }
            }

            await Eventually.Async(() => acknowledged.All(id => receiver.Deliveries.Any(d => d.Id == id)), TimeSpan.FromSeconds(90),
                () => $"{acknowledged.Count(id => receiver.Deliveries.Any(d => d.Id == id))} of {acknowledged.Count} acknowledged events delivered");
            output.WriteLine("During the outage: " + string.Join(", ", outage.Select(o => $"{(int)o.Status} in {o.Took.TotalMilliseconds:0} ms")));
            Assert.All(outage, o => Assert.Contains(o.Status, new[] { HttpStatusCode.BadGateway, HttpStatusCode.GatewayTimeout }));
            Assert.All(outage, o => Assert.True(o.Took < TimeSpan.FromSeconds(6), $"a publish during the outage took {o.Took}"));
        }
        finally
        {
            await azurite.DisposeAsync();
            data.Delete(recursive: true);
        }
    }

    private static async Task<string?> PublishAsync(Tenant tenant)
    {
        using var response = await tenant.Http.PostAsync($"/api/v1/applications/{tenant.ApplicationId}/events",
            Http.Json(new { eventType = "session.completed", payload = new { at = DateTimeOffset.UtcNow } }));
        return response.StatusCode == HttpStatusCode.Accepted ? (await response.BodyAsync()).GetProperty("id").GetString() : null;
    }
}
