using System.Net;
using System.Net.Http.Headers;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Verification;

/// <summary>
/// The local run as a user starts it (a separate standalone process with the Development settings): a webhook on
/// a local receiver is pending, its challenge carries a link to that process's own address, and opening the link
/// verifies it.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class LocalRunVerificationTests(ApiFixture fixture)
{
    [Fact]
    public async Task The_local_run_sends_a_challenge_whose_link_points_at_the_host_itself_and_verifies_once_opened()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        await using var receiver = await Receiver.StartAsync();
        await using var process = await HostProcess.StartAsync(
            fixture.ConnectionString, "Webhooks:RequireVerification=true", "Delivery:RunWorkers=true", $"Delivery:QueuePrefix=t{Guid.NewGuid():N}");
        using var client = new HttpClient { BaseAddress = process.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);

        using var created = await client.PostAsync(tenant.WebhooksPath, Http.Json(new { url = receiver.Url("/ok") }));
        var webhook = await created.BodyAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, webhook.ToString());
        Assert.Equal("PENDING", webhook.GetProperty("verificationStatus").GetString());

        await Eventually.Async(() => receiver.Deliveries.Any(d => Receiver.VerificationUrlOf(d.Body) is not null), EventsApi.Patience, "the challenge arrives");
        var link = Receiver.VerificationUrlOf(receiver.Deliveries.First(d => Receiver.VerificationUrlOf(d.Body) is not null).Body)!;
        Assert.StartsWith(new Uri(process.BaseAddress, "/api/v1/verifications/").ToString(), link);

        using var anonymous = new HttpClient();
        using var opened = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        using var read = await client.GetAsync(tenant.WebhookPath(webhook.Id()));
        Assert.Equal("VERIFIED", (await read.BodyAsync()).GetProperty("verificationStatus").GetString());
    }
}
