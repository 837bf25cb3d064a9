"""XML: hardened parsing, XSD validation against the official schemas, and the EN 16931 rule runner.

Pure: no network, and no knowledge of the canonical model. The official schemas are read from the
directory ``b2b-gateway schemas install`` filled (see :mod:`b2b_gateway.formats.xml.official`).
"""

from b2b_gateway.formats.xml.parser import XmlLimits, element_xpath, parse_xml

__all__ = ["XmlLimits", "element_xpath", "parse_xml"]
