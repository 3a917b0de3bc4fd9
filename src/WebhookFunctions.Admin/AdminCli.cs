using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Development;

namespace WebhookFunctions.Admin;

/// <summary>
/// The operator CLI. It builds the same services as the hosts from the same configuration and calls
/// the same library code the API does. Exit codes: 0 done, 1 failed (e.g. no such merchant), 2 usage.
/// </summary>
public static class AdminCli
{
    public const string Usage = """
        Usage: webhook-admin <command> [--json]
          merchant create --name NAME
          app create --merchant ID --name NAME
          key create --merchant ID --name NAME [--expires-at ISO-8601]
          key list --merchant ID
          key revoke --merchant ID --id KEYID
          queue redrive --queue NAME [--max N]   move NAME-poison's messages back to NAME
        Configuration as for the hosts: appsettings.{Environment}.json, then environment variables
        such as Storage__ConnectionString or Storage__TableServiceUri.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Action<IConfigurationBuilder>? configure = null)
    {
        CommandLine command;
        try
        {
            command = CommandLine.Parse(args);
            if (command.Words.Length != 2)
            {
                throw new UsageException("Expected a command such as 'merchant create'.");
            }
        }
        catch (UsageException exception)
        {
            await stderr.WriteLineAsync(exception.Message + Environment.NewLine + Usage);
            return 2;
        }

        using var host = CreateBuilder(configure).Build();
        var services = host.Services;
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        try
        {
            await services.GetRequiredService<Tables>().CreateAllAsync(cancellation.Token);
            var result = await DispatchAsync(command, services, cancellation.Token);
            await stdout.WriteLineAsync(command.Json ? JsonSerializer.Serialize(result, result.GetType(), ApiJson.Options) : Describe(result));
            return 0;
        }
        catch (UsageException exception)
        {
            await stderr.WriteLineAsync(exception.Message + Environment.NewLine + Usage);
            return 2;
        }
        catch (ValidationException exception)
        {
            var details = exception.Details is null ? string.Empty : " " + string.Join("; ", exception.Details.Select(d => $"--{Option(d.Field)}: {d.Message}"));
            await stderr.WriteLineAsync(exception.Message + "." + details + Environment.NewLine + Usage);
            return 2;
        }
        catch (DomainException exception)
        {
            await stderr.WriteLineAsync(exception.Message);
            return 1;
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or OperationCanceledException or AggregateException)
        {
            await stderr.WriteLineAsync($"Storage could not be reached or refused the request ({exception.GetType().Name}). Check Storage settings and that Azurite or Azure is up.");
            return 1;
        }
    }

    /// <summary>The CLI's host: the hosts' services and configuration, in Development unless told otherwise.</summary>
    public static HostApplicationBuilder CreateBuilder(Action<IConfigurationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            // Development (Azurite) unless told otherwise; no launch profile, so `dotnet run` prints
            // nothing of its own on stdout and --json output stays a single JSON object.
            EnvironmentName = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Development,
        });
        configure?.Invoke(builder.Configuration);

        // Azurite's development storage by default in Development. Set here rather than in an
        // appsettings.Development.json: a file of that name in this project is copied into every project
        // that references it (the tests), where it replaced the standalone host's own.
        if (builder.Environment.IsDevelopment()
            && builder.Configuration["Storage:ConnectionString"] is null && builder.Configuration["Storage:TableServiceUri"] is null)
        {
            builder.Configuration["Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        }

        // The content root is the output folder, so a relative key file must be taken from the
        // repository root, as the standalone host does: both then use the same local secret-store key.
        const string KeyFile = $"{LocalSecretsOptions.Section}:{nameof(LocalSecretsOptions.KeyFile)}";
        if (builder.Environment.IsDevelopment()
            && RepositoryRoot.Resolve(builder.Configuration[KeyFile] ?? new LocalSecretsOptions().KeyFile, builder.Environment.ContentRootPath) is { } keyFile)
        {
            builder.Configuration[KeyFile] = keyFile;
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.AddWebhookCore();
        return builder;
    }

    private static async Task<object> DispatchAsync(CommandLine command, IServiceProvider services, CancellationToken cancellationToken)
    {
        var merchants = services.GetRequiredService<MerchantService>();
        switch ($"{command.Words[0]} {command.Words[1]}")
        {
            case "merchant create":
                command.AllowOnly("name");
                return await merchants.CreateAsync(command.Required("name"), cancellationToken);
            case "app create":
            {
                command.AllowOnly("merchant", "name");
                var merchant = await merchants.RequireAsync(command.Required("merchant"), cancellationToken);
                return await services.GetRequiredService<ApplicationService>().CreateAsync(merchant.Id, command.Required("name"), cancellationToken);
            }

            case "key create":
            {
                command.AllowOnly("merchant", "name", "expires-at");
                var expiresAt = ParseTimestamp(command.Optional("expires-at"));
                var merchant = await merchants.RequireAsync(command.Required("merchant"), cancellationToken);
                return await services.GetRequiredService<ApiKeyService>().CreateAsync(merchant.Id, command.Required("name"), expiresAt, cancellationToken);
            }

            case "key list":
            {
                command.AllowOnly("merchant");
                var merchant = await merchants.RequireAsync(command.Required("merchant"), cancellationToken);
                return new KeyList(await ListAllKeysAsync(services.GetRequiredService<ApiKeyService>(), merchant.Id, cancellationToken));
            }

            case "key revoke":
            {
                command.AllowOnly("merchant", "id");
                var merchant = await merchants.RequireAsync(command.Required("merchant"), cancellationToken);
                // Operators may revoke a merchant's last key (a leaked key must die); the API refuses that to merchants.
                return await services.GetRequiredService<ApiKeyService>().RevokeAsync(merchant.Id, command.Required("id"), allowLastActive: true, cancellationToken);
            }

            case "queue redrive":
            {
                command.AllowOnly("queue", "max");
                var queue = command.Required("queue");
                if (PoisonRedrive.IsPoisonQueue(queue))
                {
                    throw new UsageException("--queue names the work queue (e.g. webhook-attempts); its -poison queue is where messages come from.");
                }

                return await PoisonRedrive.Create(services).RunAsync(queue, ParseMax(command.Optional("max")), cancellationToken);
            }

            default:
                throw new UsageException($"Unknown command '{command.Words[0]} {command.Words[1]}'.");
        }
    }

    /// <summary>Operators see every key, so the CLI reads the API's pages one after another.</summary>
    private static async Task<IReadOnlyList<ApiKeyInfo>> ListAllKeysAsync(ApiKeyService keys, string merchantId, CancellationToken cancellationToken)
    {
        var all = new List<ApiKeyInfo>();
        string? after = null;
        while (true)
        {
            var (items, more) = await keys.ListAsync(merchantId, PageTokens.MaxLimit, after, cancellationToken);
            all.AddRange(items);
            if (!more)
            {
                return all;
            }

            after = items[^1].Id;
        }
    }

    private static DateTimeOffset? ParseTimestamp(string? value)
    {
        if (value is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : throw new UsageException("--expires-at must be an ISO 8601 timestamp, e.g. 2027-01-31T00:00:00Z.");
    }

    private static int? ParseMax(string? value)
    {
        if (value is null)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
            ? parsed
            : throw new UsageException("--max must be a whole number of messages, at least 1.");
    }

    private static string Option(string field) => field == "expiresAt" ? "expires-at" : field;

    private static string Describe(object result) => result switch
    {
        Merchant m => $"Merchant {m.Id} \"{m.Name}\" created {ApiJson.Format(m.CreatedAt)}",
        Application a => $"Application {a.Id} \"{a.Name}\" for merchant {a.MerchantId} created {ApiJson.Format(a.CreatedAt)}",
        CreatedApiKey k => $"API key {k.Id} \"{k.Name}\"\n  {k.Key}\n  (shown once; only its hash is stored)",
        KeyList list => list.Items.Count == 0
            ? "No API keys."
            : string.Join(Environment.NewLine, list.Items.Select(k =>
                $"{k.Id}  {k.KeyPrefix}…  \"{k.Name}\"  created {ApiJson.Format(k.CreatedAt)}"
                + (k.RevokedAt is { } r ? $"  revoked {ApiJson.Format(r)}" : string.Empty)
                + (k.ExpiresAt is { } e ? $"  expires {ApiJson.Format(e)}" : string.Empty))),
        RevokedApiKey r => $"API key {r.Id} revoked {ApiJson.Format(r.RevokedAt)}",
        RedriveResult r => $"Moved {r.Moved} message(s) from {r.Queue}-poison back to {r.Queue}",
        _ => result.ToString() ?? string.Empty,
    };

    private sealed record KeyList(IReadOnlyList<ApiKeyInfo> Items);
}
