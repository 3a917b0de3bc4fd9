namespace WebhookFunctions.Development;

/// <summary>
/// The checkout a local run comes from: the folder holding <c>WebhookFunctions.sln</c>. Local files
/// (the secret-store key, Azurite's data) live in its git-ignored <c>.local/</c>, whichever host or
/// tool runs and wherever its content root or output folder is.
/// </summary>
public static class RepositoryRoot
{
    public const string MarkerFile = "WebhookFunctions.sln";

    /// <summary>The first folder at or above one of <paramref name="starts"/> (tried in order) that holds the solution.</summary>
    public static string? Find(params string[] starts)
    {
        foreach (var start in starts)
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, MarkerFile)))
                {
                    return directory.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="path"/> made absolute against the repository root found from <paramref name="starts"/>,
    /// or null when it is absolute already or no repository is found (then the caller's own base applies).
    /// </summary>
    public static string? Resolve(string path, params string[] starts) =>
        Path.IsPathRooted(path) || Find(starts) is not { } root ? null : Path.GetFullPath(Path.Combine(root, path));
}
