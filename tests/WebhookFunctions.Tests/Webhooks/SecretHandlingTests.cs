using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed class SecretHandlingTests(ApiFixture fixture)
{
    [Fact]
    public async Task The_secret_store_is_called_once_on_create_and_never_on_read_list_or_update()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var store = fixture.Host.Secrets;

        var before = store.Total;
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var afterCreate = store.Total;
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);
        using (await tenant.Http.GetAsync(path))
        using (await tenant.Http.GetAsync(tenant.WebhooksPath))
        using (await tenant.Http.PatchJsonAsync(path, new { description = "x", url = Http.UniqueUrl() }))
        {
        }

        Assert.Equal(1, afterCreate - before);
        Assert.Equal(afterCreate, store.Total);
    }

    [Fact]
    public async Task No_api_key_or_signing_secret_appears_in_logs()
    {
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var secret = created.GetProperty("signingSecret").GetString()!;
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);
        using (await tenant.Http.GetAsync(path))
        using (await tenant.Http.PatchJsonAsync(path, new { url = "https://10.0.0.1/" }))
        using (await tenant.Http.DeleteAsync(path))
        {
        }

        using var wrongKey = host.Client(tenant.ApiKey[..^2] + "zz");
        using (await wrongKey.GetAsync(tenant.WebhooksPath))
        {
        }

        var logs = host.Logs.All;
        Assert.NotEmpty(host.Logs.Lines);
        Assert.DoesNotContain(tenant.ApiKey[8..], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(tenant.ApiKey[8..^2], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(secret["whsec_".Length..], logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ids_are_echoed_when_sane_and_replaced_when_not()
    {
        using var client = fixture.Host.Client();
        using var sane = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        sane.Headers.Add("x-request-id", "client-abc_123.4:5");
        using var insane = new HttpRequestMessage(HttpMethod.Get, "/api/v1/event-types");
        insane.Headers.TryAddWithoutValidation("x-request-id", "evil<script>" + new string('a', 200));

        using var saneResponse = await client.SendAsync(sane);
        using var insaneResponse = await client.SendAsync(insane);

        Assert.Equal("client-abc_123.4:5", saneResponse.Headers.GetValues("x-request-id").Single());
        var replaced = insaneResponse.Headers.GetValues("x-request-id").Single();
        Assert.True(Guid.TryParse(replaced, out _));
        Assert.Equal(replaced, (await insaneResponse.AssertErrorAsync(401)).GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_with_the_envelope()
    {
        using var client = fixture.Host.Client();

        using var missing = await client.GetAsync("/api/v1/nothing-here");
        using var method = await client.PutAsync("/api/health", Http.Json("{}"));

        await missing.AssertErrorAsync(404);
        await method.AssertErrorAsync(405);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, method.StatusCode);
    }
}
