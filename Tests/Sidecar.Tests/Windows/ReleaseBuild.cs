using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>
/// The releases scripts/publish.sh makes (<c>artifacts/release/</c>): published once per test run when missing or
/// older than the Sidecar build these tests use, one publish at a time.
/// </summary>
internal static class ReleaseBuild
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The folder the releases and their archives are published into.</summary>
    public static string Folder => Path.Combine(SidecarProcess.RepoRoot, "artifacts", "release");

    /// <summary>The version the release names carry (<c>Version</c> in Directory.Build.props), e.g. <c>0.12.0</c>.</summary>
    public static string Version
    {
        get
        {
            var v = typeof(CaptionSidecar.Hosting.SidecarOptions).Assembly.GetName().Version!;
            return $"{v.Major}.{v.Minor}.{v.Build}";
        }
    }

    /// <summary>The name of the folder inside the archive, and of the archive without its extension.</summary>
    public static string Name(string rid) => $"CaptionSidecar-{Version}-{rid}";

    /// <summary>The archive of <paramref name="rid"/>: .zip on Windows, .tar.gz elsewhere.</summary>
    public static string ArchivePath(string rid) =>
        Path.Combine(Folder, Name(rid) + (rid.StartsWith("win-", StringComparison.Ordinal) ? ".zip" : ".tar.gz"));

    /// <summary>The executable in the release folder of <paramref name="rid"/>.</summary>
    public static string ExePath(string rid) =>
        Path.Combine(Folder, rid, rid.StartsWith("win-", StringComparison.Ordinal) ? "CaptionSidecar.exe" : "CaptionSidecar");

    /// <summary>Publishes <paramref name="rid"/> with scripts/publish.sh unless its archive is newer than the Sidecar build.</summary>
    public static async Task EnsureCurrentAsync(string rid, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            var built = File.GetLastWriteTimeUtc(SidecarProcess.SidecarAssembly);
            var archive = new FileInfo(ArchivePath(rid));
            var exe = new FileInfo(ExePath(rid));
            if (archive.Exists && exe.Exists && archive.LastWriteTimeUtc >= built && exe.LastWriteTimeUtc >= built)
            {
                return;
            }

            var script = Path.Combine(SidecarProcess.RepoRoot, "scripts", "publish.sh");
            var (code, _, stderr) = await Peers.RunAsync("bash", [script, rid], TimeSpan.FromMinutes(8), cancellationToken);
            Assert.True(code == 0 && File.Exists(ExePath(rid)) && File.Exists(ArchivePath(rid)), $"scripts/publish.sh {rid} failed ({code}):\n{stderr}");
        }
        finally
        {
            Gate.Release();
        }
    }
}
