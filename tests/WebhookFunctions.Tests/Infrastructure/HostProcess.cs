using System.Diagnostics;
using WebhookFunctions.Api.Development;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The standalone host as a separate process, for tests that must kill it the hard way (SIGKILL)
/// or measure it from outside.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;

    private HostProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public static async Task<HostProcess> StartAsync(string connectionString, params string[] settings)
    {
        var port = AzuriteProcess.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var argument in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "WebhookFunctions.Standalone.dll"),
                     $"--urls=http://127.0.0.1:{port}",
                     $"--Storage:ConnectionString={connectionString}",
                     $"--LocalSecrets:Key={TestHost.LocalSecretsKey}",
                     "--Development:StartAzurite=false",
                     "--Development:SeedDemo=false",
                     "--Logging:LogLevel:Default=Warning",
                 }.Concat(settings.Select(s => "--" + s)))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}"));

        using var probe = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The host process exited with {process.ExitCode} on start.");
            }

            try
            {
                using var health = await probe.GetAsync("/api/health");
                if (health.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        await host.DisposeAsync();
        throw new TimeoutException("The host process did not answer /api/health within 60 s.");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crashed or evicted instance.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public long WorkingSetBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
