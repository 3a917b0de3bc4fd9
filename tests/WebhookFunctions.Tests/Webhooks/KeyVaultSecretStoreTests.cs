using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

/// <summary>The production secret path: the real SecretClient against a Key Vault protocol endpoint over HTTPS.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class KeyVaultSecretStoreTests(ApiFixture fixture) : IAsyncLifetime
{
    private FakeKeyVault _vault = null!;
    private TestHost _host = null!;

    public async Task InitializeAsync()
    {
        _vault = await FakeKeyVault.StartAsync();
        _host = await TestHost.StartAsync(fixture.ConnectionString, _vault.Configure, _vault.Settings());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vault.DisposeAsync();
    }

    [Fact]
    public async Task The_host_uses_key_vault_when_a_vault_is_configured()
    {
        Assert.IsType<KeyVaultSecretStore>(_host.Secrets.Inner);
        using var health = await _host.Client().GetAsync("/api/health");
        Assert.Equal("reachable", (await health.BodyAsync()).GetProperty("secretStore").GetString());
    }

    [Fact]
    public async Task Create_stores_the_secret_in_the_vault_with_tags_after_the_bearer_challenge()
    {
        var tenant = await _host.NewTenantAsync();

        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var id = created.GetProperty("id").GetString()!;

        Assert.True(_vault.Challenges > 0);
        Assert.Single(_vault.VersionsOf("whsec-" + id));
        Assert.Equal(created.GetProperty("signingSecret").GetString(), await _host.Secrets.Inner.GetAsync("whsec-" + id, null, CancellationToken.None));
        var tags = _vault.TagsOf("whsec-" + id)!;
        Assert.Equal(tenant.MerchantId, tags["merchantId"]);
        Assert.Equal(tenant.ApplicationId, tags["applicationId"]);
        Assert.Equal(id, tags["webhookId"]);
    }

    [Fact]
    public async Task Rotation_adds_a_version_and_both_versions_read_back()
    {
        var tenant = await _host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var id = created.GetProperty("id").GetString()!;

        using var rotate = await tenant.Http.PostAsync(tenant.WebhookPath(id) + "/rotate-secret", null);
        var rotated = await rotate.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var versions = _vault.VersionsOf("whsec-" + id);
        Assert.Equal(2, versions.Count);
        Assert.Equal(created.GetProperty("signingSecret").GetString(), await _host.Secrets.Inner.GetAsync("whsec-" + id, versions[0], CancellationToken.None));
        Assert.Equal(rotated.GetProperty("signingSecret").GetString(), await _host.Secrets.Inner.GetAsync("whsec-" + id, versions[1], CancellationToken.None));
    }

    [Fact]
    public async Task Delete_soft_deletes_the_secret_and_a_webhook_recreated_at_once_gets_a_fresh_name()
    {
        var tenant = await _host.NewTenantAsync();
        var url = Http.UniqueUrl();
        var first = (await tenant.CreateWebhookAsync(new { url })).GetProperty("id").GetString()!;

        using var delete = await tenant.Http.DeleteAsync(tenant.WebhookPath(first));
        var second = await tenant.CreateWebhookAsync(new { url });
        var secondId = second.GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.True(_vault.IsDeleted("whsec-" + first));
        Assert.NotEqual(first, secondId);
        Assert.False(_vault.IsDeleted("whsec-" + secondId));
        Assert.Equal(1, _vault.Requests.Count(r => r == $"PUT /secrets/whsec-{first}"));
        Assert.Equal(second.GetProperty("signingSecret").GetString(), await _host.Secrets.Inner.GetAsync("whsec-" + secondId, null, CancellationToken.None));
    }

    [Fact]
    public async Task Writing_to_a_deleted_but_recoverable_name_is_a_clear_409_not_a_500()
    {
        var store = (KeyVaultSecretStore)_host.Secrets.Inner;
        var name = "whsec-" + Guid.CreateVersion7();
        await store.SetAsync(name, "whsec_" + Convert.ToBase64String(new byte[32]), new Dictionary<string, string>(), CancellationToken.None);
        await store.DeleteAsync(name, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            store.SetAsync(name, "whsec_" + Convert.ToBase64String(new byte[32]), new Dictionary<string, string>(), CancellationToken.None));

        Assert.Contains("deleted", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(name, null, CancellationToken.None));
    }

    [Fact]
    public async Task When_the_record_write_fails_after_the_secret_write_the_record_still_names_the_secret_in_use()
    {
        await using var proxy = new TcpProxy(fixture.AzuritePort);
        await using var host = await TestHost.StartAsync(
            fixture.ConnectionString.Replace($":{fixture.AzuritePort}/", $":{proxy.Port}/", StringComparison.Ordinal),
            _vault.Configure,
            [.. _vault.Settings(), "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true", "Storage:MaxRetries=0"]);
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") });
        var id = created.GetProperty("id").GetString()!;
        var original = created.GetProperty("signingSecret").GetString()!;

        // Storage goes away between the vault write and the record write.
        _vault.AfterSet = () => { proxy.Refuse(); return Task.CompletedTask; };
        using var rotate = await tenant.Http.PostAsync(tenant.WebhookPath(id) + "/rotate-secret", null);
        _vault.AfterSet = null;
        proxy.Resume();

        await rotate.AssertErrorAsync(502);
        Assert.Equal(2, _vault.VersionsOf("whsec-" + id).Count);
        using var get = await tenant.Http.GetAsync(tenant.WebhookPath(id));
        Assert.Equal("whsec_****" + original[^4..], (await get.BodyAsync()).GetProperty("keyFingerprint").GetString());
        using var test = await tenant.Http.PostAsync(tenant.WebhookPath(id) + "/test", null);
        Assert.Equal("SUCCEEDED", (await test.BodyAsync()).GetProperty("status").GetString());
        var delivery = Assert.Single(receiver.Deliveries);
        Assert.True(delivery.VerifiesWith(original));
        Assert.Single(delivery.Signatures.Split(' '));
    }
}
