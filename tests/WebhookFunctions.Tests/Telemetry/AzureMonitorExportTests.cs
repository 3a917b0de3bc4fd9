using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Telemetry;

/// <summary>
/// The Azure path: with APPLICATIONINSIGHTS_CONNECTION_STRING set, spans reach the ingestion endpoint
/// it names, authorised by a token from the app's own <see cref="TokenCredential"/> (Application
/// Insights accepts nothing else with local auth disabled). The endpoint is a local HTTPS stand-in.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class AzureMonitorExportTests(ApiFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Spans_go_to_Application_Insights_with_an_Entra_token_from_the_apps_credential()
    {
        await using var ingestion = await FakeIngestion.StartAsync();
        var credential = new RecordingCredential("ingestion-token-" + Guid.NewGuid().ToString("N"));
        await using var host = await TestHost.StartAsync(fixture.ConnectionString, services =>
        {
            services.Replace(ServiceDescriptor.Singleton<TokenCredential>(credential));
            // Only the certificate trust differs from production: the stand-in's certificate is self-signed.
            services.Configure<AzureMonitorExporterOptions>(options => options.Transport = ingestion.Transport());
        },
        $"APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey={Guid.NewGuid()};IngestionEndpoint={ingestion.Uri}",
        "AzureMonitorExporter:SamplingRatio=1",
        "AzureMonitorExporter:EnableLiveMetrics=false",
        "AzureMonitorExporter:DisableOfflineStorage=true");

        var tenant = await host.NewTenantAsync();
        using var response = await tenant.Http.GetAsync(tenant.WebhooksPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = response.Headers.GetValues(RequestScope.HeaderName).Single();

        var tracing = host.Services.GetRequiredService<TracerProvider>();
        var deadline = Stopwatch.StartNew();
        while (!ingestion.Received.Any(r => r.Body.Contains(requestId, StringComparison.Ordinal)))
        {
            Assert.True(deadline.Elapsed < Deadline, $"The request's span did not reach ingestion within {Deadline}; got {ingestion.Received.Count} posts.");
            tracing.ForceFlush(5_000);
            await Task.Delay(100);
        }

        Assert.All(ingestion.Received, r => Assert.Equal("Bearer " + credential.Token, r.Authorization));
        Assert.Contains("https://monitor.azure.com//.default", credential.Scopes);

        // The credential is added to the exporter's options, not instead of them: the operator's
        // AzureMonitorExporter section still applies.
        var options = host.Services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().CurrentValue;
        Assert.Same(credential, options.Credential);
        Assert.False(options.EnableLiveMetrics);
        Assert.True(options.DisableOfflineStorage);
    }

    private sealed record Post(string Path, string Authorization, string Body);

    private sealed class FakeIngestion : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly X509Certificate2 _certificate;

        private FakeIngestion(WebApplication app, X509Certificate2 certificate)
        {
            _app = app;
            _certificate = certificate;
        }

        public Uri Uri { get; private set; } = null!;

        public ConcurrentQueue<Post> Received { get; } = new();

        public static async Task<FakeIngestion> StartAsync()
        {
            var certificate = CreateCertificate();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
            var app = builder.Build();
            var ingestion = new FakeIngestion(app, certificate);
            app.Run(ingestion.HandleAsync);
            await app.StartAsync();
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            ingestion.Uri = new Uri($"https://127.0.0.1:{port}/");
            return ingestion;
        }

        public HttpClientTransport Transport()
        {
            var thumbprint = _certificate.Thumbprint;
            return new HttpClientTransport(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint },
            });
        }

        private async Task HandleAsync(HttpContext context)
        {
            Stream body = context.Request.Body;
            if (context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                body = new GZipStream(body, CompressionMode.Decompress);
            }

            using var reader = new StreamReader(body);
            Received.Enqueue(new Post(context.Request.Path, context.Request.Headers.Authorization.ToString(), await reader.ReadToEndAsync()));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"itemsReceived\":0,\"itemsAccepted\":0,\"errors\":[]}");
        }

        private static X509Certificate2 CreateCertificate()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _certificate.Dispose();
        }
    }

    private sealed class RecordingCredential(string token) : TokenCredential
    {
        public string Token => token;

        public ConcurrentQueue<string> Scopes { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Enqueue(scope);
            }

            return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
