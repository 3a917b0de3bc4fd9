using System.Diagnostics;
using System.Globalization;

namespace WebhookFunctions.Development;

/// <summary>
/// The standalone host as a separate process on a free loopback port, in Development, with no
/// Azurite of its own and no demo data. For what must be done to the host from outside: the tests
/// that kill it with SIGKILL or measure its memory, and the benchmark that times its start.
/// </summary>
public sealed class StandaloneProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;

    private StandaloneProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>
    /// Starts <c>WebhookFunctions.Standalone.dll</c> from <paramref name="directory"/> and returns once
    /// <c>/api/health</c> answers 200. <paramref name="settings"/> are <c>Section:Key=value</c>.
    /// </summary>
    public static async Task<StandaloneProcess> StartAsync(string directory, IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var port = AzuriteProcess.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.ArgumentList.Add(Path.Combine(directory, "WebhookFunctions.Standalone.dll"));
        foreach (var setting in new[] { $"Urls=http://127.0.0.1:{port}", "Development:StartAzurite=false", "Development:SeedDemo=false", "Logging:LogLevel:Default=Warning" }
                     .Concat(settings))
        {
            start.ArgumentList.Add("--" + setting);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the standalone host.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new StandaloneProcess(process, new Uri($"http://127.0.0.1:{port}"));

        using var probe = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The standalone host exited with {process.ExitCode} on start.");
            }

            try
            {
                using var health = await probe.GetAsync(new Uri("/api/health", UriKind.Relative), cancellationToken);
                if (health.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(10, cancellationToken);
        }

        await host.DisposeAsync();
        throw new TimeoutException($"The standalone host did not answer /api/health within {StartTimeout.TotalSeconds} s.");
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

    /// <summary>The peak resident set (VmHWM on Linux); the working set alone shows only the present.</summary>
    public long PeakResidentBytes()
    {
        var status = $"/proc/{_process.Id}/status";
        var line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) : null;
        if (line is null)
        {
            _process.Refresh();
            return _process.PeakWorkingSet64;
        }

        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
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
