using CaptionSidecar.Hosting;

namespace CaptionSidecar.Tests.Hosting;

/// <summary>Where the defaults file (<c>appsettings.json</c>) is read from: the application's folder, else beside the executable.</summary>
public sealed class DefaultsFileTests
{
    private static readonly string Base = Path.Combine(Path.GetTempPath(), "base");
    private static readonly string ExeFolder = Path.Combine(Path.GetTempPath(), "release");
    private static readonly string Exe = Path.Combine(ExeFolder, "CaptionSidecar.exe");

    [Fact]
    public void InTheApplicationFolder_ThatOneIsRead()
    {
        string[] present = [Path.Combine(Base, "appsettings.json"), Path.Combine(ExeFolder, "appsettings.json")];

        Assert.Equal(present[0], SidecarHost.DefaultsFile(Base, Exe, present.Contains));
    }

    [Fact]
    public void OnlyBesideTheExecutable_AsTheSelfExtractingWindowsReleaseHasIt_ThatOneIsRead()
    {
        string[] present = [Path.Combine(ExeFolder, "appsettings.json")];

        Assert.Equal(present[0], SidecarHost.DefaultsFile(Base, Exe, present.Contains));
    }

    [Fact]
    public void Nowhere_TheApplicationFolderIsNamed()
    {
        Assert.Equal(Path.Combine(Base, "appsettings.json"), SidecarHost.DefaultsFile(Base, Exe, _ => false));
        Assert.Equal(Path.Combine(Base, "appsettings.json"), SidecarHost.DefaultsFile(Base, null, _ => false));
    }
}
