using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CaptionSidecar.Overlay;

/// <summary>
/// The secret that state-changing control requests must carry: 256 random bits, base64url, made at first start and
/// kept in a file only the owner can read. Comparisons take the same time whatever the candidate is.
/// </summary>
public sealed class ControlToken
{
    /// <summary>Name of the token file inside the token folder.</summary>
    public const string FileName = "control-token";

    private const int TokenBytes = 32;
    private readonly byte[] _valueHash;

    private ControlToken(string value, string filePath)
    {
        Value = value;
        FilePath = filePath;
        _valueHash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The token (43 base64url characters). Show it only on the console, never in a log.</summary>
    public string Value { get; }

    /// <summary>The file the token is kept in.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Reads the token from <paramref name="folder"/>, or makes a new one there (file mode 0600 on Unix, folder 0700
    /// when created).
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but does not hold a valid token.</exception>
    public static ControlToken LoadOrCreate(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            var created = TryCreate(path);
            if (created is not null)
            {
                return created;
            }
        }

        return Load(path);
    }

    /// <summary>True when <paramref name="candidate"/> is the token (constant time in the candidate's content).</summary>
    public bool Matches(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return false;
        }

        // Hashing first makes the comparison length-independent as well.
        var candidateHash = SHA256.HashData(Encoding.UTF8.GetBytes(candidate));
        return CryptographicOperations.FixedTimeEquals(candidateHash, _valueHash);
    }

    private static ControlToken? TryCreate(string path)
    {
        var value = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(Encoding.ASCII.GetBytes(value));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made it first; read theirs.
            return null;
        }

        return new ControlToken(value, path);
    }

    private static ControlToken Load(string path)
    {
        var value = File.ReadAllText(path).Trim();
        if (value.Length != Base64Url.GetEncodedLength(TokenBytes)
            || !Base64Url.IsValid(value, out var decodedLength) || decodedLength != TokenBytes)
        {
            throw new InvalidDataException(
                $"The control token file '{path}' does not hold a 256-bit base64url token. Delete it and restart to make a new one.");
        }

        if (!OperatingSystem.IsWindows())
        {
            // Keep the secret owner-only even if someone widened the file's mode.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new ControlToken(value, path);
    }
}
