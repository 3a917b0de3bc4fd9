using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Api.Hosting;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Secrets;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// An HTTPS endpoint that speaks the Key Vault secrets REST protocol, enough for the real
/// <see cref="SecretClient"/>: the bearer challenge, set, get (latest or by version), list versions,
/// update a version's attributes (enabled), the 403 a disabled version answers to a get, delete with
/// soft delete, and the 409 that a deleted-but-recoverable name answers to a set.
/// </summary>
public sealed class FakeKeyVault : IAsyncDisposable
{
    public const string Token = "fake-key-vault-token";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Secret> _secrets = new(StringComparer.OrdinalIgnoreCase);

    private FakeKeyVault(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        Certificate = certificate;
    }

    public X509Certificate2 Certificate { get; }

    public Uri VaultUri { get; private set; } = null!;

    public ConcurrentQueue<string> Requests { get; } = new();

    private int _challenges;

    public int Challenges => Volatile.Read(ref _challenges);

    /// <summary>Runs after a set is stored and before it is answered.</summary>
    public Func<Task>? AfterSet { get; set; }

    public IReadOnlyList<string> VersionsOf(string name) =>
        _secrets.TryGetValue(name, out var secret) ? secret.Versions.Select(v => v.Id).ToList() : [];

    /// <summary>The versions a get can still read: the ones not disabled.</summary>
    public IReadOnlyList<string> EnabledVersionsOf(string name) =>
        _secrets.TryGetValue(name, out var secret) ? secret.Versions.Where(v => v.Enabled).Select(v => v.Id).ToList() : [];

    public IReadOnlyDictionary<string, string>? TagsOf(string name) =>
        _secrets.TryGetValue(name, out var secret) ? secret.Versions[^1].Tags : null;

    public bool IsDeleted(string name) => _secrets.TryGetValue(name, out var secret) && secret.Deleted;

    public static async Task<FakeKeyVault> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var vault = new FakeKeyVault(app, certificate);
        app.Run(vault.HandleAsync);
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        // A subdomain of the challenge resource, as name.vault.azure.net is of vault.azure.net, so the
        // client's challenge-resource check stays on.
        vault.VaultUri = new Uri($"https://vault.localhost:{port}/");
        return vault;
    }

    /// <summary>
    /// Points a host's secret store at this vault: the production client options, with only the
    /// credential and the certificate trust replaced.
    /// </summary>
    public void Configure(IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<TokenCredential>(new StaticCredential()));
        services.Replace(ServiceDescriptor.Singleton(sp => CreateClient(sp.GetRequiredService<TokenCredential>())));
    }

    public SecretClient CreateClient(TokenCredential? credential = null)
    {
        var options = CoreHostingExtensions.KeyVaultClientOptions(new KeyVaultOptions());
        var thumbprint = Certificate.Thumbprint;
        var port = VaultUri.Port;
        options.Transport = new HttpClientTransport(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint },
            // This machine's resolver does not map *.localhost to loopback, so the test transport does.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
        return new SecretClient(VaultUri, credential ?? new StaticCredential(), options);
    }

    public string[] Settings() => [$"KeyVault:VaultUri={VaultUri}"];

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            Interlocked.Increment(ref _challenges);
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate =
                $"Bearer authorization=\"https://login.microsoftonline.com/{Guid.Empty}\", resource=\"https://localhost\"";
            return;
        }

        Requests.Enqueue($"{request.Method} {request.Path}");
        var segments = request.Path.Value!.Trim('/').Split('/');
        switch (request.Method, segments)
        {
            case ("PUT", ["secrets", var name]):
                await SetAsync(context, name);
                break;
            case ("GET", ["secrets"]):
                await ListSecretsAsync(context);
                break;
            case ("GET", ["secrets", var name, "versions"]):
                await ListVersionsAsync(context, name);
                break;
            case ("GET", ["secrets", var name]):
                await GetAsync(context, name, null);
                break;
            case ("GET", ["secrets", var name, var version]):
                await GetAsync(context, name, version.Length == 0 ? null : version);
                break;
            case ("PATCH", ["secrets", var name, var version]):
                await UpdateAsync(context, name, version);
                break;
            case ("DELETE", ["secrets", var name]):
                await DeleteAsync(context, name);
                break;
            case ("GET", ["deletedsecrets", var name]):
                if (_secrets.TryGetValue(name, out var deleted) && deleted.Deleted)
                {
                    await WriteAsync(context, 200, Bundle(name, deleted.Versions[^1], includeValue: false, deletedInfo: true));
                }
                else
                {
                    await ErrorAsync(context, 404, "SecretNotFound", $"Deleted Secret not found: {name}");
                }

                break;
            default:
                await ErrorAsync(context, 400, "BadParameter", "Unsupported request");
                break;
        }
    }

    private async Task SetAsync(HttpContext context, string name)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? new JsonObject();
        var secret = _secrets.GetOrAdd(name, _ => new Secret());
        SecretVersion version;
        lock (secret)
        {
            if (secret.Deleted)
            {
                version = null!;
            }
            else
            {
                var tags = body["tags"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()) ?? [];
                version = new SecretVersion(Guid.NewGuid().ToString("N"), body["value"]!.GetValue<string>(), body["contentType"]?.GetValue<string>(), tags)
                {
                    Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                };
                secret.Versions.Add(version);
            }
        }

        if (version is null)
        {
            await ErrorAsync(context, 409, "Conflict",
                $"Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.");
            return;
        }

        if (AfterSet is { } hook)
        {
            await hook();
        }

        await WriteAsync(context, 200, Bundle(name, version, includeValue: true));
    }

    private async Task GetAsync(HttpContext context, string name, string? version)
    {
        if (!_secrets.TryGetValue(name, out var secret) || secret.Deleted)
        {
            await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
            return;
        }

        var found = version is null ? secret.Versions[^1] : secret.Versions.FirstOrDefault(v => v.Id == version);
        if (found is null)
        {
            await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name}/{version} was not found in this key vault.");
            return;
        }

        if (!found.Enabled)
        {
            await WriteAsync(context, 403, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = "Forbidden",
                    ["message"] = "Operation get is not allowed on a disabled secret.",
                    ["innererror"] = new JsonObject { ["code"] = "SecretDisabled" },
                },
            });
            return;
        }

        await WriteAsync(context, 200, Bundle(name, found, includeValue: true));
    }

    private async Task UpdateAsync(HttpContext context, string name, string versionId)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? new JsonObject();
        var found = _secrets.TryGetValue(name, out var secret) && !secret.Deleted ? secret.Versions.FirstOrDefault(v => v.Id == versionId) : null;
        if (found is null)
        {
            await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name}/{versionId} was not found in this key vault.");
            return;
        }

        if (body["attributes"]?["enabled"] is { } enabled)
        {
            found.Enabled = enabled.GetValue<bool>();
        }

        await WriteAsync(context, 200, Bundle(name, found, includeValue: false));
    }

    private async Task ListVersionsAsync(HttpContext context, string name)
    {
        var items = new JsonArray();
        if (_secrets.TryGetValue(name, out var secret) && !secret.Deleted)
        {
            foreach (var version in secret.Versions)
            {
                items.Add(Bundle(name, version, includeValue: false));
            }
        }

        await WriteAsync(context, 200, new JsonObject { ["value"] = items, ["nextLink"] = null });
    }

    private async Task ListSecretsAsync(HttpContext context)
    {
        var items = new JsonArray();
        foreach (var (name, secret) in _secrets.Where(s => !s.Value.Deleted))
        {
            var item = Bundle(name, secret.Versions[^1], includeValue: false);
            item["id"] = $"{VaultUri}secrets/{name}";
            items.Add(item);
        }

        await WriteAsync(context, 200, new JsonObject { ["value"] = items, ["nextLink"] = null });
    }

    private async Task DeleteAsync(HttpContext context, string name)
    {
        if (!_secrets.TryGetValue(name, out var secret) || secret.Deleted)
        {
            await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
            return;
        }

        secret.Deleted = true;
        await WriteAsync(context, 200, Bundle(name, secret.Versions[^1], includeValue: false, deletedInfo: true));
    }

    private JsonObject Bundle(string name, SecretVersion version, bool includeValue, bool deletedInfo = false)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var bundle = new JsonObject
        {
            ["id"] = $"{VaultUri}secrets/{name}/{version.Id}",
            ["contentType"] = version.ContentType,
            ["attributes"] = new JsonObject { ["enabled"] = version.Enabled, ["created"] = version.Created ?? now, ["updated"] = now, ["recoveryLevel"] = "Recoverable" },
            ["tags"] = new JsonObject(version.Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))),
        };
        if (includeValue)
        {
            bundle["value"] = version.Value;
        }

        if (deletedInfo)
        {
            bundle["recoveryId"] = $"{VaultUri}deletedsecrets/{name}";
            bundle["deletedDate"] = now;
            bundle["scheduledPurgeDate"] = now + (90 * 86400);
        }

        return bundle;
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=vault.localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("vault.localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    private sealed class Secret
    {
        public List<SecretVersion> Versions { get; } = [];

        public bool Deleted { get; set; }
    }

    private sealed record SecretVersion(string Id, string Value, string? ContentType, Dictionary<string, string> Tags)
    {
        public long? Created { get; init; }

        public bool Enabled { get; set; } = true;
    }

    private sealed class StaticCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(Token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
