using System.Diagnostics;
using System.Net.Http;
using System.Reflection;
using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WebhookFunctions.Core.Signing;

namespace WebhookFunctions.Api.Telemetry;

public static class TelemetryHostingExtensions
{
    /// <summary>AppContext switch under which Azure SDK clients emit activities from sources named <c>Azure.*</c>.</summary>
    public const string AzureSdkActivitySwitch = "Azure.Experimental.EnableActivitySource";

    public const string ApplicationInsightsConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    // Tags of the HttpClient and DNS meters that stay. server.address, server.port and
    // dns.question.name are dropped: test deliveries go to hosts that merchants choose, which is
    // neither a bounded set nor ours to publish in metrics. Spans keep them.
    private static readonly string[] ClientMetricTags =
        ["http.request.method", "http.response.status_code", "error.type", "network.protocol.version", "url.scheme"];

    /// <summary>
    /// Traces (ASP.NET Core, HttpClient, the Azure SDK and the service's own source) and metrics
    /// (ASP.NET Core, HttpClient and the service's own meter). They are exported, with the logs, to
    /// Azure Monitor with the app's <see cref="TokenCredential"/> when
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set and over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; with neither, nothing leaves the process.
    /// Call it before the host is built. Tests add exporters with
    /// <c>ConfigureOpenTelemetryTracerProvider</c> and <c>ConfigureOpenTelemetryMeterProvider</c>.
    /// </summary>
    public static IHostApplicationBuilder AddWebhookTelemetry(this IHostApplicationBuilder builder)
    {
        // Azure.Core reads the switch once, when its first client is constructed; clients are
        // singletons resolved after the host is built, so setting it here is early enough.
        AppContext.SetSwitch(AzureSdkActivitySwitch, true);

        var configuration = builder.Configuration;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, is read by the default resource and wins.
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(WebhookTelemetry.Name, serviceVersion: ServiceVersion());
                }
            })
            .WithTracing(tracing => tracing
                .AddSource(WebhookTelemetry.Name)
                .AddSource("Azure.*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation(options =>
                {
                    options.FilterHttpRequestMessage = _ => !IsUnderAzureSdkHttpSpan();
                    options.EnrichWithHttpRequestMessage = RedactDeliveryUrl;
                }))
            .WithMetrics(metrics => metrics
                .AddMeter(WebhookTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddView(instrument => instrument.Meter.Name is "System.Net.Http" or "System.Net.NameResolution"
                    ? new MetricStreamConfiguration { TagKeys = ClientMetricTags }
                    : null));

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, TelemetryStartupFilter>());

        var applicationInsights = configuration[ApplicationInsightsConnectionStringSetting];
        if (!string.IsNullOrWhiteSpace(applicationInsights))
        {
            // First, so the exporter's own defaults (the AzureMonitorExporter section, sampling) are
            // registered before the configuration below, which only adds to them.
            telemetry.UseAzureMonitorExporter();

            // Application Insights has local auth disabled (infra/modules/monitoring.bicep): ingestion
            // takes an Entra token of the app's identity, which needs Monitoring Metrics Publisher.
            builder.Services.AddOptions<AzureMonitorExporterOptions>()
                .Configure<TokenCredential>((options, credential) =>
                {
                    options.Credential = credential;
                    if (string.IsNullOrWhiteSpace(options.ConnectionString))
                    {
                        options.ConnectionString = applicationInsights;
                    }
                });
        }

        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]))
        {
            // Reads the endpoint, protocol and headers from the standard OTEL_EXPORTER_OTLP_* settings.
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// With Azure SDK activities on, each storage or Key Vault request already has an
    /// <c>Azure.Core.Http</c> client span; the HttpClient span under it would be the same call twice.
    /// </summary>
    private static bool IsUnderAzureSdkHttpSpan() =>
        Activity.Current?.Parent?.Source.Name == "Azure.Core.Http";

    /// <summary>
    /// A test delivery goes to a URL a merchant chose, whose path or query may itself be a credential
    /// (capability URLs are common for webhooks). Its span keeps only scheme, host and port.
    /// </summary>
    private static void RedactDeliveryUrl(Activity activity, HttpRequestMessage request)
    {
        if (request.Headers.Contains(WebhookSigner.SignatureHeader) && request.RequestUri is { } uri)
        {
            activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Authority) + "/");
        }
    }

    private static string? ServiceVersion() =>
        typeof(WebhookTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
}
