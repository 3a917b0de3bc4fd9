using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using WebhookFunctions.Development;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Faults;

/// <summary>Azurite in persistent mode, stopped and started again on the same data folder under a running host.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class StorageRestartTests
{
    [Fact]
    public async Task After_storage_restarts_the_host_recovers_without_a_restart_and_nothing_written_before_is_lost()
    {
        var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory)!;
        var data = Directory.CreateTempSubdirectory("azurite-restart-");
        var port = AzuriteProcess.FreePort();
        var accounts = $"devstoreaccount1:{Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))}";
        var (queuePort, blobPort) = (AzuriteProcess.FreePort(), AzuriteProcess.FreePort());
        var azurite = await AzuriteProcess.StartAsync(tools, port, data.FullName, accounts, null, CancellationToken.None, queuePort, blobPort);
        var connectionString = azurite.ConnectionString(accounts.Split(':', 2)[1]);
        try
        {
            await using var host = await TestHost.StartAsync(connectionString, null);
            var tenant = await host.NewTenantAsync();
            var before = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), description = $"before restart {i}" });
                var shown = JsonNode.Parse(created.GetRawText())!.AsObject();
                shown.Remove("signingSecret");
                before.Add(shown.ToJsonString());
            }

            var firstId = System.Text.Json.JsonDocument.Parse(before[0]).RootElement.GetProperty("id").GetString()!;
            using (var patched = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(firstId), new { description = "patched before restart" }))
            {
                before[0] = JsonNode.Parse((await patched.BodyAsync()).GetRawText())!.ToJsonString();
            }

            await azurite.DisposeAsync();
            using (var down = await tenant.Http.GetAsync(tenant.WebhookPath(firstId)))
            {
                await down.AssertErrorAsync(502);
            }

            azurite = await AzuriteProcess.StartAsync(tools, port, data.FullName, accounts, null, CancellationToken.None, queuePort, blobPort);
            var recovery = Stopwatch.StartNew();
            HttpStatusCode status;
            do
            {
                using var probe = await tenant.Http.GetAsync(tenant.WebhookPath(firstId));
                status = probe.StatusCode;
            }
            while (status != HttpStatusCode.OK && recovery.Elapsed < TimeSpan.FromSeconds(20));

            Assert.True(status == HttpStatusCode.OK, $"not recovered after {recovery.Elapsed}: {status}");
            using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
            var after = (await list.BodyAsync()).GetProperty("items").EnumerateArray().Select(w => JsonNode.Parse(w.GetRawText())!.ToJsonString()).ToList();
            using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(before, after);
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }
        finally
        {
            await azurite.DisposeAsync();
            data.Delete(recursive: true);
        }
    }
}
