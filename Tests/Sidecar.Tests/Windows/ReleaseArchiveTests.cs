using System.IO.Compression;
using System.Security.Cryptography;
using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>
/// The Windows release archive as a streamer downloads it (scripts/publish.sh win-x64, which scripts/test.sh runs
/// before the tests): it verifies against its .sha256 and holds the release folder, nothing a streamer does not need.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReleaseArchiveTests
{
    private const string Rid = "win-x64";

    [Fact]
    public async Task WindowsArchive_VerifiesWithSha256sum()
    {
        var ct = TestContext.Current.CancellationToken;
        await RequireReleaseAsync(ct);
        var archive = ReleaseBuild.ArchivePath(Rid);
        var checksum = archive + ".sha256";
        Assert.True(File.Exists(checksum), $"{checksum} is missing");

        // The form `sha256sum -c` reads: the hash, two spaces, the archive's name as it lies beside the checksum.
        var line = (await File.ReadAllTextAsync(checksum, ct)).TrimEnd('\n');
        await using (var stream = File.OpenRead(archive))
        {
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
            Assert.Equal($"{hash}  {Path.GetFileName(archive)}", line);
        }

        var sha256sum = Peers.RequireExecutable("sha256sum");
        var (code, stdout, stderr) = await Peers.RunAsync(
            "bash", ["-c", $"cd '{ReleaseBuild.Folder}' && '{sha256sum}' -c '{Path.GetFileName(checksum)}'"], TimeSpan.FromSeconds(60), ct);
        Assert.True(code == 0, $"sha256sum -c exited {code}\n{stdout}\n{stderr}");
        Assert.Contains($"{Path.GetFileName(archive)}: OK", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WindowsArchive_HoldsTheExeItsDefaultsAndTheReadmeInTheVersionedFolder()
    {
        var ct = TestContext.Current.CancellationToken;
        await RequireReleaseAsync(ct);
        var folder = ReleaseBuild.Name(Rid);

        using var zip = ZipFile.OpenRead(ReleaseBuild.ArchivePath(Rid));
        var names = zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal([$"{folder}/CaptionSidecar.exe", $"{folder}/README.md", $"{folder}/appsettings.json"], names);
        Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));
        var exe = zip.GetEntry($"{folder}/CaptionSidecar.exe")!;
        Assert.True(exe.Length > 50_000_000, $"CaptionSidecar.exe is {exe.Length} bytes: not a self-contained single-file build");
        using (var defaults = new StreamReader(zip.GetEntry($"{folder}/appsettings.json")!.Open()))
        {
            var source = await File.ReadAllTextAsync(Path.Combine(SidecarProcess.RepoRoot, "Sidecar", "appsettings.json"), ct);
            Assert.Equal(source, await defaults.ReadToEndAsync(ct));
        }
    }

    private static async Task RequireReleaseAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The releases are built and checked on Linux (scripts/publish.sh).");
        }

        await ReleaseBuild.EnsureCurrentAsync(Rid, cancellationToken);
    }
}
