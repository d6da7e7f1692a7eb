namespace CaptionSidecar.Hosting;

/// <summary>Where the sidecar keeps per-user files (logs, later the control token and language choices).</summary>
public sealed class DataFolders
{
    /// <summary>Creates the folder set rooted at <paramref name="root"/>, or at the OS default when null or empty.</summary>
    public DataFolders(string? root)
    {
        Root = string.IsNullOrWhiteSpace(root) ? DefaultRoot() : Path.GetFullPath(root);
    }

    /// <summary>The root folder: <c>%LOCALAPPDATA%\CaptionSidecar</c> on Windows, <c>$XDG_DATA_HOME/CaptionSidecar</c>
    /// (default <c>~/.local/share/CaptionSidecar</c>) elsewhere.</summary>
    public string Root { get; }

    /// <summary>Daily rolling log files.</summary>
    public string Logs => Path.Combine(Root, "logs");

    /// <summary>Creates the folders that must exist, with owner-only permissions on Unix.</summary>
    public void EnsureCreated()
    {
        foreach (var dir in new[] { Root, Logs })
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dir);
            }
            else
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    private static string DefaultRoot()
    {
        var baseDir = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(baseDir))
        {
            baseDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        }

        return Path.Combine(baseDir, "CaptionSidecar");
    }
}
