using System.Buffers.Text;

namespace CaptionSidecar.Overlay.Tests;

public sealed class ControlTokenTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "overlay-token-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void LoadOrCreate_FirstStart_Writes256BitBase64UrlTokenOwnerOnly()
    {
        var token = ControlToken.LoadOrCreate(_folder);

        Assert.Equal(Path.Combine(_folder, ControlToken.FileName), token.FilePath);
        Assert.Equal(token.Value, File.ReadAllText(token.FilePath));
        Assert.Equal(32, Base64Url.DecodeFromChars(token.Value).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token.FilePath));
        }
    }

    [Fact]
    public void LoadOrCreate_SecondStart_ReadsSameToken()
    {
        var first = ControlToken.LoadOrCreate(_folder);
        var second = ControlToken.LoadOrCreate(_folder);

        Assert.Equal(first.Value, second.Value);
    }

    [Fact]
    public void LoadOrCreate_TwoFolders_MakeDifferentTokens()
    {
        var other = _folder + "-other";
        try
        {
            Assert.NotEqual(ControlToken.LoadOrCreate(_folder).Value, ControlToken.LoadOrCreate(other).Value);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    // Skipped by the attribute: a synchronous test that throws xunit's skip exception hangs the runner under Wine.
    public static bool OnWindows => OperatingSystem.IsWindows();

    [Fact(Skip = "Unix file modes only", SkipWhen = nameof(OnWindows))]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void LoadOrCreate_WidenedFileMode_IsTightenedAgain()
    {
        var token = ControlToken.LoadOrCreate(_folder);
        File.SetUnixFileMode(token.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        ControlToken.LoadOrCreate(_folder);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token.FilePath));
    }

    [Fact]
    public void LoadOrCreate_CorruptFile_ThrowsNamingTheFile()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, ControlToken.FileName), "not a token");

        var ex = Assert.Throws<InvalidDataException>(() => ControlToken.LoadOrCreate(_folder));

        Assert.Contains(ControlToken.FileName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Delete it", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matches_OnlyTheExactToken()
    {
        var token = ControlToken.LoadOrCreate(_folder);

        Assert.True(token.Matches(token.Value));
        Assert.False(token.Matches(token.Value[..^1] + (token.Value[^1] == 'A' ? 'B' : 'A')));
        Assert.False(token.Matches(token.Value + "x"));
        Assert.False(token.Matches(string.Empty));
        Assert.False(token.Matches(null));
    }
}
