"""The parents' and pupils' portal: contacts, invitations and links, visits and the answers given."""
