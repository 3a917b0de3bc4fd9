using System.Net;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Recover;

/// <summary>What RecoverDeliveries refuses, and who may read a job.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class RecoverRulesTests(ApiFixture fixture)
{
    private static string Ago(TimeSpan by) => RecoverApi.Iso(DateTimeOffset.UtcNow - by);

    [Fact]
    public async Task A_window_outside_retention_or_backwards_or_a_status_that_is_not_finished_is_a_400_naming_the_field()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();

        using (var old = await tenant.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromDays(31)) }))
        {
            var error = await old.AssertErrorAsync(400, "since");
            Assert.Contains("retention", error.ToString(), StringComparison.Ordinal);
        }

        using (var backwards = await tenant.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromHours(1)), until = Ago(TimeSpan.FromHours(2)) }))
        {
            await backwards.AssertErrorAsync(400, "since");
        }

        using (var future = await tenant.RecoverAsync(webhookId, new { since = RecoverApi.Iso(DateTimeOffset.UtcNow.AddHours(1)) }))
        {
            await future.AssertErrorAsync(400, "since");
        }

        foreach (var statuses in new object[] { new[] { "PENDING" }, new[] { "SUCCEEDED" }, new[] { "FAILED", "failed" }, Array.Empty<string>(), "FAILED" })
        {
            using var wrong = await tenant.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromHours(1)), statuses });
            await wrong.AssertErrorAsync(400, "statuses");
        }

        using (var missing = await tenant.RecoverAsync(webhookId, new { dryRun = true }))
        {
            await missing.AssertErrorAsync(400, "since");
        }

        using (var extra = await tenant.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromHours(1)), limit = 10 }))
        {
            await extra.AssertErrorAsync(400, "limit");
        }

        // Just inside retention is accepted.
        Assert.Equal(0, await tenant.DryRunAsync(webhookId, DateTimeOffset.UtcNow.AddDays(-29), null, "FAILED", "SKIPPED"));
    }

    [Fact]
    public async Task An_inactive_webhook_is_a_409_for_a_dry_run_and_for_a_job()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        using (var off = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = false }))
        {
            off.EnsureSuccessStatusCode();
        }

        foreach (var dryRun in new[] { true, false })
        {
            using var response = await tenant.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromHours(1)), dryRun });
            await response.AssertErrorAsync(409, "isActive");
        }
    }

    [Fact]
    public async Task Another_merchant_gets_403_on_the_route_and_on_the_job_and_an_unknown_job_is_404()
    {
        var owner = await fixture.Host.NewTenantAsync();
        var other = await fixture.Host.NewTenantAsync("Other merchant");
        var webhookId = (await owner.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        var location = await owner.StartAsync(webhookId, DateTimeOffset.UtcNow.AddHours(-1), null, "FAILED");

        // Under its own application the other merchant finds no such webhook; under the owner's, it is refused.
        using (var own = await other.RecoverAsync(webhookId, new { since = Ago(TimeSpan.FromHours(1)), dryRun = true }))
        {
            await own.AssertErrorAsync(404);
        }

        using (var route = await other.Http.PostAsync($"/api/v1/applications/{owner.ApplicationId}/webhooks/{webhookId}/recover",
                   Http.Json(new { since = Ago(TimeSpan.FromHours(1)) })))
        {
            await route.AssertErrorAsync(403);
        }

        using (var job = await other.Http.GetAsync(location))
        {
            await job.AssertErrorAsync(403);
        }

        using (var unknown = await owner.Http.GetAsync($"/api/v1/jobs/{Guid.CreateVersion7():D}"))
        {
            await unknown.AssertErrorAsync(404);
        }

        using (var malformed = await owner.Http.GetAsync("/api/v1/jobs/not-a-job"))
        {
            await malformed.AssertErrorAsync(400, "jobId");
        }

        using (var own = await owner.Http.GetAsync(location))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using (var unknownWebhook = await owner.RecoverAsync(Guid.CreateVersion7().ToString("D"), new { since = Ago(TimeSpan.FromHours(1)) }))
        {
            await unknownWebhook.AssertErrorAsync(404);
        }
    }

    [Fact]
    public async Task A_job_is_kept_for_the_retention_period_and_then_gone()
    {
        await using var host = await fixture.StartHostAsync("Delivery:RetentionDays=1");
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        var location = await tenant.StartAsync(webhookId, host.Clock.GetUtcNow().AddHours(-1), null, "FAILED");

        host.Clock.Advance(TimeSpan.FromHours(23));
        using (var kept = await tenant.Http.GetAsync(location))
        {
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        host.Clock.Advance(TimeSpan.FromHours(2));
        using (var gone = await tenant.Http.GetAsync(location))
        {
            await gone.AssertErrorAsync(404);
        }
    }
}
