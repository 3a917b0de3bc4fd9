using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// No file git tracks outside tests/ holds something shaped like a real API key or signing secret:
/// a walkthrough's output, a pasted response or a captured log would otherwise ship in the repository.
/// Tests are exempt because they hold made-up values of exactly those shapes on purpose.
/// </summary>
public sealed partial class TrackedSecretsTests
{
    // wk_live_ and 49 base62 characters; whsec_ and the padded base64 of 32 bytes.
    [GeneratedRegex(@"(?<![A-Za-z0-9_])wk_live_[A-Za-z0-9]{49}(?![A-Za-z0-9])|whsec_[A-Za-z0-9+/]{43}=")]
    private static partial Regex SecretShaped();

    [Fact]
    public void No_tracked_file_outside_tests_holds_an_api_key_or_a_signing_secret()
    {
        var root = OperationParityTests.RepositoryRoot();
        var found = TrackedFiles(root)
            .Where(path => !path.StartsWith("tests/", StringComparison.Ordinal))
            .Select(path => (Path: path, Full: Path.Combine(root, path)))
            .Where(file => File.Exists(file.Full))
            .SelectMany(file =>
            {
                var text = File.ReadAllText(file.Full, Encoding.Latin1);
                // Where and what kind, never the value: the failure message must not repeat the secret.
                return SecretShaped().Matches(text).Select(match =>
                    $"{file.Path}:{text.AsSpan(0, match.Index).Count('\n') + 1}: {(match.Value.StartsWith("wk_", StringComparison.Ordinal) ? "an API key" : "a whsec_ signing secret")}");
            })
            .ToList();

        Assert.True(found.Count == 0, "Secret-shaped values in tracked files (remove them with git rm or edit them out):\n" + string.Join('\n', found));
    }

    [Fact]
    public void The_pattern_finds_both_shapes_and_leaves_the_readme_placeholders_alone()
    {
        Assert.Matches(SecretShaped(), "KEY=wk_live_" + new string('a', 49));
        Assert.Matches(SecretShaped(), "\"signingSecret\":\"whsec_" + Convert.ToBase64String(new byte[32]) + "\"");
        Assert.DoesNotMatch(SecretShaped(), "KEY=wk_live_...");
        Assert.DoesNotMatch(SecretShaped(), "\"keyFingerprint\":\"whsec_****fYk=\"");
    }

    private static List<string> TrackedFiles(string root)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "ls-files", "-z" })
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start) ?? throw new InvalidOperationException("git could not be started.");
        var errors = git.StandardError.ReadToEndAsync();
        var output = git.StandardOutput.ReadToEnd();
        if (!git.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            git.Kill();
            throw new TimeoutException("git ls-files did not finish within 30 s.");
        }

        Assert.True(git.ExitCode == 0, $"git ls-files failed in {root} ({git.ExitCode}): {errors.Result}");
        var files = output.Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Contains("README.md", files);
        return files;
    }
}
